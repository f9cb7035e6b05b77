#include "tools/fake_line/messaging_control.h"

#include <simdjson.h>

#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "tools/fake_line/control_replies.h"
#include "tools/fake_line/json_reader.h"
#include "tools/fake_line/message_checks.h"
#include "tools/fake_line/random_ids.h"
#include "tools/fake_line/responses.h"

namespace linechannel::fake_line {
namespace {

constexpr int64_t kMaxUsersPerCall = 1000;
constexpr int64_t kMaxFaultCount = 1000000;
constexpr int64_t kMaxHoldMs = 600000;
constexpr int64_t kMaxRetryAfterSeconds = 3600;
constexpr uint64_t kMaxContentBytes = uint64_t{4} << 30;
constexpr absl::Duration kMaxReleaseWait = absl::Seconds(10);

// The endpoints faults can be scripted for: LINE's outbound calls, by call key.
constexpr const char* kFaultableEndpoints[] = {
    "reply",          "push",    "quota",       "quota_consumption", "profile",
    "member_profile", "content", "transcoding", "mark_as_read",      "loading"};

bool IsFaultable(absl::string_view endpoint) {
  for (const char* name : kFaultableEndpoints) {
    if (endpoint == name) return true;
  }
  return false;
}

JsonObject SettingsJson(const MessagingSettings& settings, int64_t usage) {
  return JsonObject()
      .Set("message_quota", settings.message_quota)
      .Set("rate_limit_per_second", settings.rate_limit_per_second)
      .Set("reply_token_lifetime_seconds", absl::ToInt64Seconds(settings.reply_token_lifetime))
      .Set("media_processing_seconds", absl::ToInt64Seconds(settings.media_processing))
      .Set("quota_usage", usage);
}

JsonObject ContentJson(const MediaItem& item, absl::Time now) {
  return JsonObject()
      .Set("message_id", item.message_id)
      .Set("message_type", item.message_type)
      .Set("file_name", item.file_name)
      .Set("size", static_cast<double>(item.size))
      .Set("status", MediaStatusName(item.StatusAt(now)));
}

// A number field of a control body in [min, max]; the 400 answer otherwise.
std::variant<int64_t, HttpResponse> Bounded(simdjson::dom::element value, absl::string_view key,
                                            int64_t min, int64_t max) {
  absl::StatusOr<int64_t> number = JsonInt(value, key);
  if (!number.ok()) return ControlStatusError(number.status());
  if (*number < min || *number > max) {
    return ControlError(400, absl::StrCat("\"", key, "\" must be between ", min, " and ", max));
  }
  return *number;
}

}  // namespace

std::optional<HttpResponse> MessagingControl::Handle(const HttpRequest& request,
                                                     const std::vector<std::string>& parts) const {
  const std::string& method = request.method;
  if (parts.size() == 3 && parts[1] == "faults" && parts[2] == "release") {
    if (method != "POST") return MethodNotAllowed("POST");
    return Release(request);
  }
  if (parts.size() < 4 || parts[1] != "channels") return std::nullopt;
  const std::string& id = parts[2];
  const std::string& what = parts[3];
  if (what != "sent" && what != "messaging" && what != "users" && what != "faults" &&
      what != "content") {
    return std::nullopt;
  }
  if (!registry_->Get(id).ok()) return ControlError(404, absl::StrCat("no channel ", id));
  if (parts.size() == 4 && what == "sent") {
    return method == "GET" ? Sent(id) : MethodNotAllowed("GET");
  }
  if (parts.size() == 4 && what == "messaging") {
    if (method == "GET") return Settings(id);
    if (method == "PATCH") return PatchSettings(id, request);
    return MethodNotAllowed("GET, PATCH");
  }
  if (parts.size() == 4 && what == "users") {
    return method == "POST" ? AddUsers(id, request) : MethodNotAllowed("POST");
  }
  if (parts.size() == 5 && what == "users") {
    return method == "PATCH" ? PatchUser(id, parts[4], request) : MethodNotAllowed("PATCH");
  }
  if (parts.size() == 4 && what == "faults") {
    if (method == "GET") return ListFaults(id);
    if (method == "POST") return AddFault(id, request);
    if (method == "DELETE") {
      stores_.faults->Clear(id);
      return ListFaults(id);
    }
    return MethodNotAllowed("GET, POST, DELETE");
  }
  if (parts.size() == 5 && what == "content") {
    if (method == "GET") return GetContent(id, parts[4]);
    if (method == "PATCH") return PatchContent(id, parts[4], request);
    return MethodNotAllowed("GET, PATCH");
  }
  return std::nullopt;
}

HttpResponse MessagingControl::Release(const HttpRequest& request) const {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::object> body = ParseControlBody(parser, request.body);
  if (!body.ok()) return ControlStatusError(body.status());
  int64_t wait_for = 0;
  for (const auto& [raw_key, value] : *body) {
    const absl::string_view key = ToAbsl(raw_key);
    if (key != "wait_for") return ControlError(400, absl::StrCat("unknown field \"", key, "\""));
    std::variant<int64_t, HttpResponse> n = Bounded(value, key, 0, 1000);
    if (auto* refusal = std::get_if<HttpResponse>(&n)) return std::move(*refusal);
    wait_for = std::get<int64_t>(n);
  }
  return JsonResponse(
      200, JsonObject().Set("released", stores_.faults->Release(wait_for, kMaxReleaseWait)));
}

HttpResponse MessagingControl::Sent(const std::string& channel_id) const {
  int64_t dropped = 0;
  JsonArray sent;
  for (const SentRecord& record : stores_.outbox->Records(channel_id, &dropped)) {
    JsonObject entry;
    entry.Set("kind", record.kind)
        .Set("to", record.to)
        .Set("retry_key", record.retry_key)
        .Set("request_id", record.request_id)
        .Set("accepted_at", FormatRfc3339Millis(record.accepted_at))
        .Set("notification_disabled", record.notification_disabled);
    if (!record.messages_json.empty()) {
      // The fake wrote or checked this text itself, so it parses.
      (void)entry.SetJson("messages", record.messages_json);
      JsonArray ids;
      for (const SentMessageId& message : record.sent_messages) ids.Add(message.id);
      entry.Set("message_ids", ids);
    }
    if (record.kind == "loading") entry.Set("loading_seconds", record.loading_seconds);
    sent.Add(entry);
  }
  return JsonResponse(200, JsonObject().Set("sent", sent).Set("dropped", dropped));
}

HttpResponse MessagingControl::Settings(const std::string& channel_id) const {
  return JsonResponse(200, SettingsJson(stores_.outbox->settings(channel_id),
                                        stores_.outbox->QuotaUsage(channel_id)));
}

HttpResponse MessagingControl::PatchSettings(const std::string& channel_id,
                                             const HttpRequest& request) const {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::object> body = ParseControlBody(parser, request.body);
  if (!body.ok()) return ControlStatusError(body.status());
  MessagingSettings settings = stores_.outbox->settings(channel_id);
  for (const auto& [raw_key, value] : *body) {
    const absl::string_view key = ToAbsl(raw_key);
    std::variant<int64_t, HttpResponse> number = int64_t{0};
    if (key == "message_quota") {
      number = Bounded(value, key, -1, int64_t{1} << 40);
    } else if (key == "rate_limit_per_second") {
      number = Bounded(value, key, 0, 1000000);
    } else if (key == "reply_token_lifetime_seconds" || key == "media_processing_seconds") {
      number = Bounded(value, key, 0, 30 * 24 * 3600);
    } else {
      return ControlError(400, absl::StrCat("unknown field \"", key, "\""));
    }
    if (auto* refusal = std::get_if<HttpResponse>(&number)) return std::move(*refusal);
    const int64_t n = std::get<int64_t>(number);
    if (key == "message_quota") settings.message_quota = n;
    if (key == "rate_limit_per_second") settings.rate_limit_per_second = n;
    if (key == "reply_token_lifetime_seconds") settings.reply_token_lifetime = absl::Seconds(n);
    if (key == "media_processing_seconds") settings.media_processing = absl::Seconds(n);
  }
  stores_.outbox->SetSettings(channel_id, settings);
  return Settings(channel_id);
}

HttpResponse MessagingControl::AddUsers(const std::string& channel_id,
                                        const HttpRequest& request) const {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::object> body = ParseControlBody(parser, request.body);
  if (!body.ok()) return ControlStatusError(body.status());
  int64_t count = 1;
  std::string chat_id;
  for (const auto& [raw_key, value] : *body) {
    const absl::string_view key = ToAbsl(raw_key);
    if (key == "count") {
      std::variant<int64_t, HttpResponse> n = Bounded(value, key, 1, kMaxUsersPerCall);
      if (auto* refusal = std::get_if<HttpResponse>(&n)) return std::move(*refusal);
      count = std::get<int64_t>(n);
    } else if (key == "group_id" || key == "room_id") {
      absl::StatusOr<std::string> text = JsonString(value, key);
      if (!text.ok()) return ControlStatusError(text.status());
      const char prefix = key == "group_id" ? 'C' : 'R';
      if (!IsChatId(*text) || (*text)[0] != prefix) {
        return ControlError(400, absl::StrCat("\"", key, "\" must be \"", std::string(1, prefix),
                                              "\" and 32 lower-case hex digits"));
      }
      chat_id = *text;
    } else {
      return ControlError(400, absl::StrCat("unknown field \"", key, "\""));
    }
  }
  JsonArray ids;
  for (int64_t i = 0; i < count; ++i) {
    EventFacts facts;
    facts.user_id = "U" + RandomHex(32);
    if (!chat_id.empty()) (chat_id[0] == 'C' ? facts.group_id : facts.room_id) = chat_id;
    stores_.Remember(channel_id, facts, clock_->Now());
    ids.Add(facts.user_id);
  }
  return JsonResponse(200, JsonObject().Set("user_ids", ids));
}

HttpResponse MessagingControl::PatchUser(const std::string& channel_id, const std::string& user_id,
                                         const HttpRequest& request) const {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::element> value =
      OnlyField(parser, request.body, "blocked", "true|false");
  if (!value.ok()) return ControlStatusError(value.status());
  absl::StatusOr<bool> blocked = JsonBool(*value, "blocked");
  if (!blocked.ok()) return ControlStatusError(blocked.status());
  if (absl::Status set = stores_.audience->SetBlocked(channel_id, user_id, *blocked); !set.ok()) {
    return ControlStatusError(set);
  }
  return JsonResponse(200, JsonObject().Set("user_id", user_id).Set("blocked", *blocked));
}

HttpResponse MessagingControl::ListFaults(const std::string& channel_id) const {
  JsonArray pending;
  for (const FaultScript::Pending& item : stores_.faults->List(channel_id)) {
    pending.Add(JsonObject()
                    .Set("endpoint", item.endpoint)
                    .Set("fault", FaultName(item.fault))
                    .Set("after_accept", item.fault.after_accept)
                    .Set("remaining", item.remaining));
  }
  return JsonResponse(200, JsonObject().Set("pending", pending));
}

HttpResponse MessagingControl::AddFault(const std::string& channel_id,
                                        const HttpRequest& request) const {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::object> body = ParseControlBody(parser, request.body);
  if (!body.ok()) return ControlStatusError(body.status());
  std::string endpoint;
  std::string name;
  int64_t count = 1;
  ScriptedFault fault;
  for (const auto& [raw_key, value] : *body) {
    const absl::string_view key = ToAbsl(raw_key);
    std::variant<int64_t, HttpResponse> number = int64_t{0};
    if (key == "endpoint" || key == "fault") {
      absl::StatusOr<std::string> text = JsonString(value, key);
      if (!text.ok()) return ControlStatusError(text.status());
      (key == "endpoint" ? endpoint : name) = *text;
      continue;
    }
    if (key == "after_accept") {
      absl::StatusOr<bool> flag = JsonBool(value, key);
      if (!flag.ok()) return ControlStatusError(flag.status());
      fault.after_accept = *flag;
      continue;
    }
    if (key == "count") {
      number = Bounded(value, key, 1, kMaxFaultCount);
    } else if (key == "retry_after") {
      number = Bounded(value, key, 0, kMaxRetryAfterSeconds);
    } else if (key == "hold_ms") {
      number = Bounded(value, key, 0, kMaxHoldMs);
    } else {
      return ControlError(400, absl::StrCat("unknown field \"", key, "\""));
    }
    if (auto* refusal = std::get_if<HttpResponse>(&number)) return std::move(*refusal);
    const int64_t n = std::get<int64_t>(number);
    if (key == "count") count = n;
    if (key == "retry_after") fault.retry_after_seconds = n;
    if (key == "hold_ms") fault.hold = absl::Milliseconds(n);
  }
  if (!IsFaultable(endpoint)) {
    return ControlError(400,
                        "\"endpoint\" must name an outbound call: reply, push, quota, "
                        "quota_consumption, profile, member_profile, content, transcoding, "
                        "mark_as_read or loading");
  }
  if (name == "500" || name == "503" || name == "429") {
    fault.kind = ScriptedFault::Kind::kStatus;
    fault.status = name == "500" ? 500 : name == "503" ? 503 : 429;
  } else if (name == "timeout") {
    fault.kind = ScriptedFault::Kind::kTimeout;
  } else if (name == "drop") {
    fault.kind = ScriptedFault::Kind::kDrop;
  } else {
    return ControlError(400,
                        "\"fault\" must be \"500\", \"503\", \"429\", \"timeout\" or \"drop\"");
  }
  if (name == "429" && fault.after_accept) {
    return ControlError(400, "a 429 means LINE refused the call: it cannot come after_accept");
  }
  stores_.faults->Add(channel_id, endpoint, fault, count);
  return ListFaults(channel_id);
}

HttpResponse MessagingControl::GetContent(const std::string& channel_id,
                                          const std::string& message_id) const {
  std::optional<MediaItem> item = stores_.media->Find(channel_id, message_id);
  if (!item.has_value()) {
    return ControlError(
        404, absl::StrCat("channel ", channel_id, " has no content for message ", message_id));
  }
  return JsonResponse(200, ContentJson(*item, clock_->Now()));
}

HttpResponse MessagingControl::PatchContent(const std::string& channel_id,
                                            const std::string& message_id,
                                            const HttpRequest& request) const {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::object> body = ParseControlBody(parser, request.body);
  if (!body.ok()) return ControlStatusError(body.status());
  std::optional<MediaStatus> status;
  std::optional<uint64_t> size;
  for (const auto& [raw_key, value] : *body) {
    const absl::string_view key = ToAbsl(raw_key);
    if (key == "status") {
      absl::StatusOr<std::string> text = JsonString(value, key);
      if (!text.ok()) return ControlStatusError(text.status());
      status = ParseMediaStatus(*text);
      if (!status.has_value()) {
        return ControlError(400, "\"status\" must be \"processing\", \"succeeded\" or \"failed\"");
      }
    } else if (key == "size") {
      std::variant<int64_t, HttpResponse> n =
          Bounded(value, key, 0, static_cast<int64_t>(kMaxContentBytes));
      if (auto* refusal = std::get_if<HttpResponse>(&n)) return std::move(*refusal);
      size = static_cast<uint64_t>(std::get<int64_t>(n));
    } else {
      return ControlError(400, absl::StrCat("unknown field \"", key, "\""));
    }
  }
  absl::StatusOr<MediaItem> item = stores_.media->Update(channel_id, message_id, status, size);
  if (!item.ok()) return ControlStatusError(item.status());
  return JsonResponse(200, ContentJson(*item, clock_->Now()));
}

}  // namespace linechannel::fake_line
