#include "server/grpc/channel_proto.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "server/binding/binding_health.h"

namespace linechannel::server {

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  *out = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

namespace {

v1::CheckKind ToCheckKindProto(CheckKind kind) {
  switch (kind) {
    case CheckKind::kAccessTokenValid:
      return v1::ACCESS_TOKEN_VALID;
    case CheckKind::kWebhookUrlMatches:
      return v1::WEBHOOK_URL_MATCHES;
    case CheckKind::kWebhookEnabled:
      return v1::WEBHOOK_ENABLED;
    case CheckKind::kLineTestDelivered:
      return v1::LINE_TEST_DELIVERED;
    case CheckKind::kSignatureVerified:
      return v1::SIGNATURE_VERIFIED;
    case CheckKind::kRecentTraffic:
      return v1::RECENT_TRAFFIC;
    case CheckKind::kResponseSettings:
      return v1::RESPONSE_SETTINGS;
  }
  return v1::CHECK_KIND_UNSPECIFIED;
}

v1::ChatMode ToChatModeProto(LineChatMode mode) {
  switch (mode) {
    case LineChatMode::kChat:
      return v1::CHAT;
    case LineChatMode::kBot:
      return v1::BOT;
    case LineChatMode::kUnknown:
      break;
  }
  return v1::CHAT_MODE_UNSPECIFIED;
}

v1::MarkAsReadMode ToMarkAsReadModeProto(LineMarkAsReadMode mode) {
  switch (mode) {
    case LineMarkAsReadMode::kAuto:
      return v1::MARK_AS_READ_AUTO;
    case LineMarkAsReadMode::kManual:
      return v1::MARK_AS_READ_MANUAL;
    case LineMarkAsReadMode::kUnknown:
      break;
  }
  return v1::MARK_AS_READ_MODE_UNSPECIFIED;
}

v1::CheckResult ToCheckResultProto(CheckResult result) {
  switch (result) {
    case CheckResult::kPass:
      return v1::PASS;
    case CheckResult::kFail:
      return v1::FAIL;
    case CheckResult::kSkipped:
      return v1::SKIPPED;
    case CheckResult::kWarning:
      return v1::WARNING;
  }
  return v1::CHECK_RESULT_UNSPECIFIED;
}

v1::Verdict ToVerdictProto(Verdict verdict) {
  switch (verdict) {
    case Verdict::kOk:
      return v1::OK;
    case Verdict::kActionNeeded:
      return v1::ACTION_NEEDED;
    case Verdict::kLineUnavailable:
      return v1::LINE_UNAVAILABLE;
  }
  return v1::VERDICT_UNSPECIFIED;
}

v1::WebhookSetup::Action ToActionProto(WebhookSetup::Action action) {
  switch (action) {
    case WebhookSetup::Action::kNotRequested:
      return v1::WebhookSetup::NOT_REQUESTED;
    case WebhookSetup::Action::kSet:
      return v1::WebhookSetup::SET;
    case WebhookSetup::Action::kReplaced:
      return v1::WebhookSetup::REPLACED;
    case WebhookSetup::Action::kLeftUnchanged:
      return v1::WebhookSetup::LEFT_UNCHANGED;
    case WebhookSetup::Action::kFailed:
      return v1::WebhookSetup::FAILED;
  }
  return v1::WebhookSetup::ACTION_UNSPECIFIED;
}

v1::RetiredUrl::State ToRetiredStateProto(RetiredUrl::State state) {
  switch (state) {
    case RetiredUrl::State::kStillSetOnLine:
      return v1::RetiredUrl::STILL_SET_ON_LINE;
    case RetiredUrl::State::kNotSetOnLine:
      return v1::RetiredUrl::NOT_SET_ON_LINE;
    case RetiredUrl::State::kUnknown:
      return v1::RetiredUrl::UNKNOWN;
  }
  return v1::RetiredUrl::STATE_UNSPECIFIED;
}

v1::WebhookUrlClear::Outcome ToClearOutcomeProto(WebhookUrlClear::Outcome outcome) {
  switch (outcome) {
    case WebhookUrlClear::Outcome::kNotRequested:
      return v1::WebhookUrlClear::NOT_REQUESTED;
    case WebhookUrlClear::Outcome::kCleared:
      return v1::WebhookUrlClear::CLEARED;
    case WebhookUrlClear::Outcome::kLeftAlone:
      return v1::WebhookUrlClear::LEFT_ALONE;
    case WebhookUrlClear::Outcome::kFailed:
      return v1::WebhookUrlClear::FAILED;
  }
  return v1::WebhookUrlClear::OUTCOME_UNSPECIFIED;
}

}  // namespace

void ToChannelProto(const storage::Binding& binding, const std::string& webhook_url,
                    v1::Channel* out) {
  out->set_binding_id(binding.binding_id);
  out->set_team_id(binding.team_id);
  out->set_channel_id(binding.channel_id);
  out->set_app_name(binding.app_name);
  out->set_line_id(binding.line_id);
  out->set_bot_user_id(binding.bot_user_id);
  out->set_bot_display_name(binding.bot_display_name);
  // A retired URL is still shown for the record; it answers 404 now.
  out->set_webhook_url(webhook_url);
  out->set_channel_secret_hint(binding.channel_secret_hint);
  out->set_access_token_hint(binding.access_token_hint);
  const BindingHealth health = HealthOf(binding);
  out->set_state(ToBindingStateProto(health.state));
  for (const std::string& reason : health.reasons) out->add_attention_reasons(reason);
  if (binding.checked_at) SetTimestamp(*binding.checked_at, out->mutable_check_time());
  SetTimestamp(binding.bound_at, out->mutable_bind_time());
  SetTimestamp(binding.credentials_updated_at, out->mutable_credentials_update_time());
  if (binding.unbound_at) SetTimestamp(*binding.unbound_at, out->mutable_unbind_time());
  out->set_verified_with_line(binding.verified_with_line);
}

void ToAuditEntryProto(const storage::AuditRecord& record, v1::AuditEntry* out) {
  out->set_binding_id(record.binding_id);
  out->set_channel_id(record.channel_id);
  out->set_action(record.action);
  out->set_actor(record.actor);
  SetTimestamp(record.at, out->mutable_time());
  out->set_detail(record.detail);
}

void ToChannelProto(const ResponseSettings& settings, v1::Channel* out) {
  out->set_chat_mode(ToChatModeProto(settings.chat_mode));
  out->set_mark_as_read_mode(ToMarkAsReadModeProto(settings.mark_as_read_mode));
}

namespace {

v1::LifecycleKind ToLifecycleKindProto(storage::LifecycleKind kind) {
  switch (kind) {
    case storage::LifecycleKind::kBound:
      return v1::LIFECYCLE_BOUND;
    case storage::LifecycleKind::kUnbound:
      return v1::LIFECYCLE_UNBOUND;
    case storage::LifecycleKind::kCredentialsUpdated:
      return v1::LIFECYCLE_CREDENTIALS_UPDATED;
    case storage::LifecycleKind::kStateChanged:
      return v1::LIFECYCLE_STATE_CHANGED;
    case storage::LifecycleKind::kBotSuspended:
      return v1::LIFECYCLE_BOT_SUSPENDED;
    case storage::LifecycleKind::kBotResumed:
      return v1::LIFECYCLE_BOT_RESUMED;
  }
  return v1::LIFECYCLE_KIND_UNSPECIFIED;
}

// The lifecycle event's own fields; the shared ones (cursor, ids) are set by the caller.
void ToLifecycleEventProto(const storage::StoredEvent& stored, v1::Event* out) {
  const storage::Lifecycle& l = *stored.lifecycle;
  out->set_type(absl::StrCat("lifecycle.", storage::LifecycleKindName(l.kind)));
  SetTimestamp(stored.received_at, out->mutable_timestamp());
  SetTimestamp(stored.received_at, out->mutable_receive_time());
  v1::LifecycleEvent* lifecycle = out->mutable_lifecycle();
  lifecycle->set_kind(ToLifecycleKindProto(l.kind));
  lifecycle->set_actor(l.actor);
  lifecycle->set_detail(l.detail);
  lifecycle->set_bot_suspended(l.bot_suspended);
  if (l.kind == storage::LifecycleKind::kUnbound) {
    lifecycle->set_state(v1::UNBOUND);
    return;
  }
  const BindingHealth health = HealthOfFindings(l.attention_reasons, l.bot_suspended);
  lifecycle->set_state(ToBindingStateProto(health.state));
  for (const std::string& reason : health.reasons) lifecycle->add_attention_reasons(reason);
}

}  // namespace

void ToEventProto(const storage::StoredEvent& stored, v1::Event* out) {
  const storage::NewEvent& e = stored.event;
  out->set_cursor(stored.cursor);
  out->set_team_id(stored.team_id);
  out->set_channel_id(stored.channel_id);
  out->set_binding_id(stored.binding_id);
  if (stored.lifecycle.has_value()) return ToLifecycleEventProto(stored, out);
  out->set_webhook_event_id(e.webhook_event_id.value_or(""));
  out->set_type(e.type);
  *out->mutable_timestamp() =
      google::protobuf::util::TimeUtil::MillisecondsToTimestamp(e.timestamp_ms);
  out->set_mode(e.mode);
  out->set_redelivery(e.redelivery);
  v1::EventSource* source = out->mutable_source();
  source->set_type(e.source_type);
  source->set_user_id(e.source_user_id);
  source->set_group_id(e.source_group_id);
  source->set_room_id(e.source_room_id);
  SetTimestamp(stored.received_at, out->mutable_receive_time());
  out->set_raw_json(e.raw_json);
}

v1::BindingState ToBindingStateProto(BindingState state) {
  switch (state) {
    case BindingState::kActive:
      return v1::ACTIVE;
    case BindingState::kNeedsAttention:
      return v1::NEEDS_ATTENTION;
    case BindingState::kUnbound:
      return v1::UNBOUND;
  }
  return v1::BINDING_STATE_UNSPECIFIED;
}

std::optional<BindingState> FromBindingStateProto(v1::BindingState state) {
  switch (state) {
    case v1::ACTIVE:
      return BindingState::kActive;
    case v1::NEEDS_ATTENTION:
      return BindingState::kNeedsAttention;
    case v1::UNBOUND:
      return BindingState::kUnbound;
    default:
      return std::nullopt;
  }
}

void ToVerifyWebhookProto(const WebhookReport& report, v1::VerifyWebhookResponse* out) {
  out->set_verdict(ToVerdictProto(report.verdict));
  out->set_summary(report.summary);
  for (const WebhookCheck& check : report.checks) {
    v1::WebhookCheck* proto = out->add_checks();
    proto->set_kind(ToCheckKindProto(check.kind));
    proto->set_result(ToCheckResultProto(check.result));
    proto->set_summary(check.summary);
    proto->set_evidence(check.evidence);
    proto->set_next_step(check.next_step);
  }
  SetTimestamp(report.checked_at, out->mutable_checked_time());
  out->set_from_cache(report.from_cache);
  if (report.from_cache) {
    *out->mutable_result_age() = google::protobuf::util::TimeUtil::MicrosecondsToDuration(
        absl::ToInt64Microseconds(report.result_age));
  }
  if (report.last_signed_request) {
    SetTimestamp(*report.last_signed_request, out->mutable_last_signed_request_time());
  }
  if (report.last_bad_signature) {
    SetTimestamp(*report.last_bad_signature, out->mutable_last_bad_signature_time());
  }
  out->set_chat_mode(ToChatModeProto(report.chat_mode));
  out->set_mark_as_read_mode(ToMarkAsReadModeProto(report.mark_as_read_mode));
}

void ToWebhookSetupProto(const WebhookSetup& setup, v1::WebhookSetup* out) {
  out->set_action(ToActionProto(setup.action));
  out->set_previous_url(setup.previous_url);
  out->set_webhook_enabled(setup.webhook_enabled);
  for (const std::string& step : setup.remaining_steps) out->add_remaining_steps(step);
  out->set_detail(setup.detail);
}

void ToUnbindReportProto(const UnbindReport& report, v1::UnbindChannelResponse* out) {
  v1::RetiredUrl* retired = out->mutable_retired_url();
  retired->set_state(ToRetiredStateProto(report.retired_url.state));
  retired->set_line_webhook_url(report.retired_url.line_webhook_url);
  retired->set_next_step(report.retired_url.next_step);

  const LineLeftovers& leftovers = report.leftovers;
  v1::LineLeftovers* left = out->mutable_leftovers();
  left->set_line_asked(leftovers.line_asked);
  left->set_detail(leftovers.detail);
  left->set_rich_menu_count(leftovers.rich_menu_count);
  left->set_default_rich_menu_set(leftovers.default_rich_menu_set);
  left->set_default_rich_menu_id(leftovers.default_rich_menu_id);
  for (const std::string& step : leftovers.steps) left->add_steps(step);

  v1::WebhookUrlClear* clear = out->mutable_webhook_url_clear();
  clear->set_outcome(ToClearOutcomeProto(report.webhook_url_clear.outcome));
  clear->set_detail(report.webhook_url_clear.detail);
}

}  // namespace linechannel::server
