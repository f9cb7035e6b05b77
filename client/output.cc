#include "client/output.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "client/channel_client.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace linechannel::client {
namespace {

std::string Time(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return google::protobuf::util::TimeUtil::ToString(t);
}

void Row(std::string& out, absl::string_view key, absl::string_view value) {
  if (value.empty()) return;
  absl::StrAppend(&out, absl::StrFormat("%-20s %s\n", absl::StrCat(key, ":"), value));
}

// `heading` and one numbered line per step; nothing when there are no steps.
std::string NumberedSteps(absl::string_view heading,
                          const google::protobuf::RepeatedPtrField<std::string>& steps) {
  if (steps.empty()) return "";
  std::string out = absl::StrCat(heading, "\n");
  int number = 0;
  for (const std::string& step : steps) absl::StrAppend(&out, "  ", ++number, ". ", step, "\n");
  return out;
}

// "BOT (Plan A)" or "CHAT (Plan B)"; empty when LINE was not asked.
std::string ChatModeText(v1::ChatMode mode) {
  switch (mode) {
    case v1::BOT:
      return "BOT (Plan A)";
    case v1::CHAT:
      return "CHAT (Plan B)";
    default:
      return "";
  }
}

std::string MarkAsReadModeText(v1::MarkAsReadMode mode) {
  return mode == v1::MARK_AS_READ_MODE_UNSPECIFIED ? "" : v1::MarkAsReadMode_Name(mode);
}

}  // namespace

std::string FormatChannel(const v1::Channel& c) {
  std::string out;
  Row(out, "team_id", c.team_id());
  Row(out, "channel_id", c.channel_id());
  Row(out, "app_name", c.app_name());
  Row(out, "line_id", c.line_id().empty() ? "" : "@" + c.line_id());
  Row(out, "bot_display_name", c.bot_display_name());
  Row(out, "bot_user_id", c.bot_user_id());
  Row(out, "state", v1::BindingState_Name(c.state()));
  for (const std::string& reason : c.attention_reasons()) Row(out, "attention", reason);
  Row(out, "webhook_url", c.webhook_url());
  Row(out, "channel_secret", c.channel_secret_hint());
  Row(out, "access_token", c.access_token_hint());
  Row(out, "verified_with_line", c.verified_with_line() ? "yes" : "no");
  // As the last VerifyWebhook found them; GetChannel alone sets them.
  Row(out, "chat_mode", ChatModeText(c.chat_mode()));
  Row(out, "mark_as_read_mode", MarkAsReadModeText(c.mark_as_read_mode()));
  Row(out, "bound", Time(c.bind_time()));
  Row(out, "credentials_updated", Time(c.credentials_update_time()));
  Row(out, "unbound", Time(c.unbind_time()));
  Row(out, "binding_id", c.binding_id());
  return out;
}

std::string FormatChannelTable(const v1::ListChannelsResponse& page) {
  if (page.channels().empty()) return "no bindings\n";
  std::string out = absl::StrFormat("%-20s %-20s %-16s %-24s %s\n", "CHANNEL_ID", "LINE_ID",
                                    "STATE", "APP_NAME", "WEBHOOK_URL");
  for (const v1::Channel& c : page.channels()) {
    absl::StrAppend(
        &out, absl::StrFormat("%-20s %-20s %-16s %-24s %s\n", c.channel_id(), "@" + c.line_id(),
                              v1::BindingState_Name(c.state()), c.app_name(), c.webhook_url()));
  }
  return out;
}

std::string FormatAuditTable(const v1::ListAuditEntriesResponse& page) {
  if (page.entries().empty()) return "no audit entries\n";
  std::string out = absl::StrFormat("%-27s %-18s %-20s %-24s %-20s %s\n", "TIME", "ACTION",
                                    "CHANNEL_ID", "BINDING_ID", "ACTOR", "DETAIL");
  for (const v1::AuditEntry& e : page.entries()) {
    absl::StrAppend(&out, absl::StrFormat("%-27s %-18s %-20s %-24s %-20s %s\n", Time(e.time()),
                                          e.action(), e.channel_id(), e.binding_id(), e.actor(),
                                          e.detail()));
  }
  return out;
}

namespace {

std::string CheckName(v1::CheckKind kind) {
  static constexpr std::pair<v1::CheckKind, absl::string_view> kNames[] = {
      {v1::ACCESS_TOKEN_VALID, "access token"},     {v1::WEBHOOK_URL_MATCHES, "webhook URL"},
      {v1::WEBHOOK_ENABLED, "Use webhook"},         {v1::LINE_TEST_DELIVERED, "LINE test delivery"},
      {v1::SIGNATURE_VERIFIED, "signature/secret"}, {v1::RECENT_TRAFFIC, "recent traffic"},
      {v1::RESPONSE_SETTINGS, "response settings"},
  };
  for (const auto& [known, name] : kNames) {
    if (known == kind) return std::string(name);
  }
  return v1::CheckKind_Name(kind);
}

}  // namespace

std::string FormatVerification(const v1::VerifyWebhookResponse& r) {
  std::string out = absl::StrFormat("%-20s %-8s %s\n", "CHECK", "RESULT", "FINDING");
  for (const v1::WebhookCheck& check : r.checks()) {
    absl::StrAppend(&out, absl::StrFormat("%-20s %-8s %s\n", CheckName(check.kind()),
                                          v1::CheckResult_Name(check.result()), check.summary()));
    if (!check.evidence().empty()) {
      absl::StrAppend(&out, absl::StrFormat("%-29s evidence: %s\n", "", check.evidence()));
    }
  }
  if (r.chat_mode() != v1::CHAT_MODE_UNSPECIFIED) {
    absl::StrAppend(&out, "\nchat mode: ", ChatModeText(r.chat_mode()),
                    "   mark as read: ", MarkAsReadModeText(r.mark_as_read_mode()), "\n");
  }
  absl::StrAppend(&out, "\nverdict: ", v1::Verdict_Name(r.verdict()), "\n", r.summary(), "\n");
  if (r.from_cache()) {
    absl::StrAppend(&out, "(repeated from an earlier check, ",
                    absl::FormatDuration(absl::Seconds(r.result_age().seconds())), " old)\n");
  }
  int step = 0;
  for (const v1::WebhookCheck& check : r.checks()) {
    if (check.next_step().empty() || check.result() == v1::PASS) continue;
    if (step == 0) absl::StrAppend(&out, "\nnext steps:\n");
    absl::StrAppend(&out, "  ", ++step, ". ", check.next_step(), "\n");
  }
  return out;
}

int VerdictExitStatus(v1::Verdict verdict) {
  switch (verdict) {
    case v1::OK:
      return 0;
    case v1::ACTION_NEEDED:
      return 3;
    case v1::LINE_UNAVAILABLE:
      return 4;
    default:
      return 1;  // A verdict this channelctl does not know: not a pass.
  }
}

std::string FormatWebhookSetup(const v1::WebhookSetup& setup) {
  std::string out;
  switch (setup.action()) {
    case v1::WebhookSetup::SET:
      out = "LINE's webhook URL is set to this binding's.\n";
      break;
    case v1::WebhookSetup::REPLACED:
      out = absl::StrCat("LINE's webhook URL was replaced (it was ", setup.previous_url(), ").\n");
      break;
    case v1::WebhookSetup::LEFT_UNCHANGED:
      out = absl::StrCat("LINE's webhook URL was left as it is: ", setup.previous_url(), "\n");
      break;
    case v1::WebhookSetup::FAILED:
      out = absl::StrCat("LINE's webhook URL could not be set: ", setup.detail(), "\n");
      break;
    default:
      break;
  }
  absl::StrAppend(&out, NumberedSteps("Next:", setup.remaining_steps()));
  return out;
}

namespace {

std::string FormatRetiredUrl(const v1::RetiredUrl& retired) {
  switch (retired.state()) {
    case v1::RetiredUrl::STILL_SET_ON_LINE:
      // The server's next step already says that LINE still calls it, and what to do.
      return absl::StrCat(retired.next_step(), "\n");
    case v1::RetiredUrl::NOT_SET_ON_LINE:
      return "LINE no longer calls the retired URL.\n";
    default:
      return absl::StrCat("Whether LINE still calls the retired URL is unknown. ",
                          retired.next_step(), "\n");
  }
}

std::string FormatWebhookUrlClear(const v1::WebhookUrlClear& clear) {
  switch (clear.outcome()) {
    case v1::WebhookUrlClear::CLEARED:
      return absl::StrCat("webhook URL cleared: ", clear.detail(), "\n");
    case v1::WebhookUrlClear::LEFT_ALONE:
      return absl::StrCat("webhook URL left alone: ", clear.detail(), "\n");
    case v1::WebhookUrlClear::FAILED:
      return absl::StrCat("webhook URL not cleared: ", clear.detail(), "\n");
    default:
      return "";
  }
}

}  // namespace

std::string FormatUnbindLeftovers(const v1::UnbindChannelResponse& response) {
  std::string out = absl::StrCat(FormatRetiredUrl(response.retired_url()),
                                 FormatWebhookUrlClear(response.webhook_url_clear()));
  const v1::LineLeftovers& left = response.leftovers();
  absl::StrAppend(&out, "left on LINE: ", left.detail(), "\n");
  if (left.line_asked()) {
    Row(out, "rich_menus", absl::StrCat(left.rich_menu_count()));
    Row(out, "default_rich_menu",
        left.default_rich_menu_set() ? left.default_rich_menu_id() : "none");
  }
  if (left.steps().empty()) return absl::StrCat(out, "Nothing else to clean up on LINE.\n");
  return absl::StrCat(out, NumberedSteps("To clean up on LINE:", left.steps()));
}

namespace {

void SentMessageRows(std::string& out,
                     const google::protobuf::RepeatedPtrField<v1::SentMessage>& sent) {
  for (const v1::SentMessage& m : sent) {
    Row(out, "sent_message",
        m.quote_token().empty() ? m.id()
                                : absl::StrCat(m.id(), " (quote_token ", m.quote_token(), ")"));
  }
}

}  // namespace

std::string FormatReply(const v1::ReplyMessageResponse& response) {
  std::string out = absl::StrCat("replied: LINE sent ", response.sent_messages_size(),
                                 response.sent_messages_size() == 1 ? " message\n" : " messages\n");
  SentMessageRows(out, response.sent_messages());
  Row(out, "line_request_id", response.line_request_id());
  return out;
}

std::string FormatPush(const v1::Push& p) {
  std::string out;
  switch (p.state()) {
    case v1::PENDING:
      out = "PENDING: accepted and stored; it will be delivered (retried until LINE answers)\n";
      break;
    case v1::SENT:
      out = "SENT: LINE accepted it\n";
      break;
    case v1::FAILED:
      out = "FAILED: LINE refused it for good; it will not be retried\n";
      break;
    default:
      break;
  }
  Row(out, "request_id", p.request_id());
  Row(out, "to", p.to());
  Row(out, "state", v1::PushState_Name(p.state()));
  Row(out, "attempts", absl::StrCat(p.attempts()));
  Row(out, "retry_key", p.retry_key());
  SentMessageRows(out, p.sent_messages());
  Row(out, "line_request_id", p.line_request_id());
  Row(out, "accepted", Time(p.accept_time()));
  Row(out, "finished", Time(p.finish_time()));
  Row(out, "next_attempt", Time(p.next_attempt_time()));
  if (!p.failure_reason().empty() || !p.failure_message().empty()) {
    Row(out, p.state() == v1::FAILED ? "failure" : "last_attempt",
        absl::StrCat(p.failure_reason(), p.failure_reason().empty() ? "" : ": ",
                     p.failure_message()));
  }
  return out;
}

std::string FormatPushResponse(const v1::PushMessageResponse& response) {
  return absl::StrCat(response.created()
                          ? "new push: stored and handed to LINE\n"
                          : "already known: nothing new was sent (this request_id was pushed "
                            "before; this is where that push stands)\n",
                      FormatPush(response.push()));
}

std::string FormatProfile(const v1::Profile& p) {
  std::string out;
  Row(out, "user_id", p.user_id());
  Row(out, "display_name", p.display_name());
  Row(out, "picture_url", p.picture_url());
  Row(out, "status_message", p.status_message());
  Row(out, "language", p.language());
  return out;
}

std::string FormatQuota(const v1::MessageQuota& q) {
  std::string out;
  if (!q.limited()) {
    Row(out, "limit", "none (the plan sets no monthly limit)");
  } else {
    Row(out, "limit", absl::StrCat(q.limit()));
  }
  Row(out, "used", absl::StrCat(q.used()));
  if (q.limited()) Row(out, "left", absl::StrCat(std::max<int64_t>(0, q.limit() - q.used())));
  return out;
}

namespace {

// What an agent needs to answer the event, from LINE's JSON: " reply_token=… message=<type>:<id>
// mark_as_read_token=…", each only when the event has it. Never the message's text.
std::string AnswerHandles(const std::string& raw_json) {
  google::protobuf::Struct event;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (raw_json.empty() ||
      !google::protobuf::util::JsonStringToMessage(raw_json, &event, options).ok()) {
    return "";
  }
  const auto string_field = [](const google::protobuf::Struct& s, const std::string& name) {
    const auto it = s.fields().find(name);
    return it == s.fields().end() ? std::string() : it->second.string_value();
  };
  std::string out;
  if (const std::string token = string_field(event, "replyToken"); !token.empty()) {
    absl::StrAppend(&out, " reply_token=", token);
  }
  const auto message = event.fields().find("message");
  if (message != event.fields().end() && message->second.has_struct_value()) {
    const google::protobuf::Struct& m = message->second.struct_value();
    absl::StrAppend(&out, " message=", string_field(m, "type"), ":", string_field(m, "id"));
    if (const std::string token = string_field(m, "markAsReadToken"); !token.empty()) {
      absl::StrAppend(&out, " mark_as_read_token=", token);
    }
  }
  return out;
}

}  // namespace

std::string FormatEventLine(const v1::Event& e) {
  if (e.has_lifecycle()) {
    // The channel's own news: what changed, who changed it, and where the binding stands.
    const v1::LifecycleEvent& l = e.lifecycle();
    std::string out =
        absl::StrFormat("%-10d %-27s %-12s %-12s binding=%s", e.cursor(), Time(e.receive_time()),
                        e.channel_id(), e.type(), e.binding_id());
    if (!l.actor().empty()) absl::StrAppend(&out, " by=", l.actor());
    if (!l.detail().empty()) absl::StrAppend(&out, " detail=", l.detail());
    absl::StrAppend(&out, " state=", v1::BindingState_Name(l.state()));
    if (l.bot_suspended()) absl::StrAppend(&out, " (bot suspended)");
    absl::StrAppend(&out, "\n");
    for (const std::string& reason : l.attention_reasons()) {
      absl::StrAppend(&out, "           reason: ", reason, "\n");
    }
    return out;
  }
  std::string source = e.source().type();
  for (const std::string* id :
       {&e.source().user_id(), &e.source().group_id(), &e.source().room_id()}) {
    if (!id->empty()) absl::StrAppend(&source, ":", *id);
  }
  return absl::StrFormat("%-10d %-27s %-12s %-12s %-27s %s%s%s\n", e.cursor(),
                         Time(e.receive_time()), e.channel_id(), e.type(),
                         e.webhook_event_id().empty() ? "-" : e.webhook_event_id(),
                         source.empty() ? "-" : source, e.redelivery() ? " (redelivery)" : "",
                         AnswerHandles(e.raw_json()));
}

std::string FormatJsonLine(const google::protobuf::Message& message) {
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out).ok()) return "{}\n";
  return out + "\n";
}

std::string FormatJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}\n";
  return out;
}

std::string FormatError(const absl::Status& status) {
  const ErrorDetails details = DecodeErrorDetails(status);
  std::string out = absl::StrCat(absl::StatusCodeToString(status.code()));
  if (!details.reason.empty()) absl::StrAppend(&out, " (", details.reason, ")");
  // With field violations the message repeats them all on one line; list them instead.
  absl::StrAppend(&out, ": ",
                  details.field_violations.empty() ? status.message() : "invalid request", "\n");
  for (const auto& [field, description] : details.field_violations) {
    absl::StrAppend(&out, "  ", field, ": ", description, "\n");
  }
  if (details.retry_delay > absl::ZeroDuration()) {
    absl::StrAppend(&out, "  (retryable: try again in ", absl::FormatDuration(details.retry_delay),
                    ")\n");
  }
  if (!details.server_request_id.empty()) {
    absl::StrAppend(&out, "  (server request id ", details.server_request_id,
                    ": the server's log line for this call has it)\n");
  }
  return out;
}

std::string FormatErrorJson(const absl::Status& status) {
  const ErrorDetails details = DecodeErrorDetails(status);
  google::protobuf::Struct error;
  auto& fields = *error.mutable_fields();
  fields["code"].set_string_value(absl::StatusCodeToString(status.code()));
  fields["message"].set_string_value(std::string(status.message()));
  if (!details.reason.empty()) fields["reason"].set_string_value(details.reason);
  if (!details.metadata.empty()) {
    auto& metadata = *fields["metadata"].mutable_struct_value()->mutable_fields();
    for (const auto& [key, value] : details.metadata) metadata[key].set_string_value(value);
  }
  if (!details.field_violations.empty()) {
    auto* list = fields["fieldViolations"].mutable_list_value();
    for (const auto& [field, description] : details.field_violations) {
      auto& violation = *list->add_values()->mutable_struct_value()->mutable_fields();
      violation["field"].set_string_value(field);
      violation["description"].set_string_value(description);
    }
  }
  if (details.retry_delay > absl::ZeroDuration()) {
    fields["retryDelaySeconds"].set_number_value(absl::ToDoubleSeconds(details.retry_delay));
  }
  if (!details.server_request_id.empty()) {
    fields["serverRequestId"].set_string_value(details.server_request_id);
  }
  return FormatJson(error);
}

}  // namespace linechannel::client
