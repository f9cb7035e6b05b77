#include "server/messaging/outbound_service.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/base/errors.h"
#include "server/base/logger.h"
#include "server/crypto/sealing_contexts.h"
#include "server/messaging/line_call.h"
#include "server/messaging/message_checks.h"
#include "server/messaging/push_identity.h"

namespace linechannel::server {

struct OutboundService::Prepared {
  storage::Binding binding;
  OutboundLimiter::Permit permit;
  Secret token;
};

OutboundService::OutboundService(BindingService* bindings, storage::BindingStore* binding_store,
                                 storage::PushOutbox* outbox, PushSender* sender,
                                 LineMessagingApi* line, const SecretSealer* sealer,
                                 OutboundLimiter* limiter, const Clock* clock, Metrics* metrics,
                                 Options options)
    : bindings_(bindings),
      binding_store_(binding_store),
      outbox_(outbox),
      sender_(sender),
      line_(line),
      sealer_(sealer),
      limiter_(limiter),
      clock_(clock),
      metrics_(metrics),
      options_(options) {}

absl::StatusOr<OutboundService::Prepared> OutboundService::Prepare(absl::string_view team_id,
                                                                   absl::string_view channel_id) {
  absl::StatusOr<storage::Binding> binding = bindings_->Get(team_id, channel_id);
  if (!binding.ok()) return binding.status();
  absl::StatusOr<OutboundLimiter::Permit> permit = limiter_->Acquire(binding->row_id);
  if (!permit.ok()) {
    metrics_->RecordLineCall("any", LineCallResult(permit.status()), absl::ZeroDuration());
    return permit.status();
  }
  absl::StatusOr<Secret> token =
      sealer_->Unseal(binding->access_token, TokenContext(binding->channel_id));
  if (!token.ok()) return WithReason(token.status());
  return Prepared{*std::move(binding), *std::move(permit), *std::move(token)};
}

template <typename Result, typename Call>
Result OutboundService::Run(absl::string_view name, const storage::Binding& binding, Call call) {
  const absl::Time started = clock_->Now();
  Result result = call();
  absl::Status status;
  if constexpr (std::is_same_v<Result, absl::Status>) {
    status = result;
  } else {
    status = result.status();
  }
  metrics_->RecordLineCall(name, LineCallResult(status), clock_->Now() - started);
  if (status.ok()) return result;
  return AnswerLineRefusal(status, binding, binding_store_, clock_);
}

absl::StatusOr<LineSendResult> OutboundService::Reply(const ReplyCommand& command,
                                                      const CallContext& call) {
  absl::StatusOr<Prepared> prepared = Prepare(command.team_id, command.channel_id);
  if (!prepared.ok()) return prepared.status();
  const std::string messages = MessagesJsonArray(command.messages);
  const absl::Time deadline = LineDeadline(call.deadline, clock_->Now(), options_.call_timeout);
  absl::StatusOr<LineSendResult> sent =
      Run<absl::StatusOr<LineSendResult>>("reply", prepared->binding, [&] {
        return line_->Reply(prepared->token, command.reply_token, messages,
                            command.notification_disabled, deadline);
      });
  LogLine(LogLevel::kInfo, "reply")
      .With("binding_id", prepared->binding.binding_id)
      .With("messages", static_cast<int64_t>(command.messages.size()))
      .With("messages_bytes", static_cast<int64_t>(messages.size()))
      .With("line_request_id", sent.ok() ? sent->request_id : "")
      .WithStatus(sent.status());
  return sent;
}

absl::Status OutboundService::FailedPushError(const storage::PushRecord& push) {
  absl::StatusCode code = absl::StatusCode::kFailedPrecondition;
  if (push.failure_reason == reason::kLineRefusedRequest) code = absl::StatusCode::kInvalidArgument;
  if (push.failure_reason == reason::kLineUnavailable) code = absl::StatusCode::kUnavailable;
  return ReasonedError(code, push.failure_reason,
                       absl::StrCat("push ", push.request_id, " failed: ", push.failure_message),
                       {{"request_id", push.request_id}});
}

absl::StatusOr<PushAnswer> OutboundService::Push(const PushCommand& command,
                                                 const CallContext& call) {
  absl::StatusOr<storage::Binding> binding = bindings_->Get(command.team_id, command.channel_id);
  if (!binding.ok()) return binding.status();
  const std::string messages = MessagesJsonArray(command.messages);
  const absl::Time now = clock_->Now();
  storage::PushRecord push;
  push.binding_row_id = binding->row_id;
  push.request_id = command.request_id;
  push.retry_key = PushRetryKey(binding->binding_id, command.request_id);
  push.request_digest = PushDigest(command.to, messages, command.notification_disabled);
  push.to = command.to;
  push.messages_json = messages;
  push.notification_disabled = command.notification_disabled;
  push.accepted_at = now;
  push.next_attempt_at = now;
  push.lease_until = now + sender_->options().lease;

  absl::StatusOr<OutboundLimiter::Permit> permit = limiter_->Acquire(binding->row_id);
  if (!permit.ok()) return permit.status();
  // One write decides: a new push is stored, a repeat finds the first one.
  absl::StatusOr<storage::PushAdmission> admitted = outbox_->Admit(push);
  if (!admitted.ok()) return WithReason(admitted.status());
  if (admitted->created) {
    // Not bounded by the caller's deadline: a caller that stops waiting does not cut the
    // attempt short; the push is stored and its outcome recorded either way.
    absl::StatusOr<storage::PushRecord> attempted =
        sender_->Attempt(admitted->push, *binding, clock_->Now() + sender_->options().call_timeout);
    // The push is stored: if its outcome could not be, the retry threads finish it.
    if (attempted.ok()) admitted->push = *std::move(attempted);
  }
  if (admitted->push.request_digest != push.request_digest) {
    return ReasonedError(
        absl::StatusCode::kFailedPrecondition, reason::kRequestIdReused,
        absl::StrCat("request_id ", command.request_id,
                     " was already used for a different push (another recipient, messages or "
                     "notification setting); use a new request_id for a new push"),
        {{"request_id", command.request_id}});
  }
  if (admitted->push.state == storage::PushState::kFailed) {
    return FailedPushError(admitted->push);
  }
  return PushAnswer{admitted->push, admitted->created};
}

absl::StatusOr<storage::PushRecord> OutboundService::GetPush(absl::string_view team_id,
                                                             absl::string_view channel_id,
                                                             absl::string_view request_id) {
  absl::StatusOr<storage::Binding> binding = bindings_->Get(team_id, channel_id);
  if (!binding.ok()) return binding.status();
  absl::StatusOr<storage::PushRecord> push = outbox_->Find(binding->row_id, request_id);
  if (absl::IsNotFound(push.status())) {
    return ReasonedError(absl::StatusCode::kNotFound, reason::kPushNotFound,
                         absl::StrCat("this channel has no push with request_id ", request_id,
                                      " (never sent, or older than the push retention)"));
  }
  if (!push.ok()) return WithReason(push.status());
  return push;
}

absl::StatusOr<LineProfile> OutboundService::GetProfile(absl::string_view team_id,
                                                        absl::string_view channel_id,
                                                        const std::string& user_id,
                                                        const std::string& group_or_room_id,
                                                        const CallContext& call) {
  absl::StatusOr<Prepared> prepared = Prepare(team_id, channel_id);
  if (!prepared.ok()) return prepared.status();
  const absl::Time deadline = LineDeadline(call.deadline, clock_->Now(), options_.call_timeout);
  return Run<absl::StatusOr<LineProfile>>(
      group_or_room_id.empty() ? "profile" : "member_profile", prepared->binding,
      [&] { return line_->GetProfile(prepared->token, user_id, group_or_room_id, deadline); });
}

absl::StatusOr<LineQuota> OutboundService::GetQuota(absl::string_view team_id,
                                                    absl::string_view channel_id,
                                                    const CallContext& call) {
  absl::StatusOr<Prepared> prepared = Prepare(team_id, channel_id);
  if (!prepared.ok()) return prepared.status();
  const absl::Time deadline = LineDeadline(call.deadline, clock_->Now(), options_.call_timeout);
  return Run<absl::StatusOr<LineQuota>>("quota", prepared->binding,
                                        [&] { return line_->GetQuota(prepared->token, deadline); });
}

absl::Status OutboundService::MarkAsRead(absl::string_view team_id, absl::string_view channel_id,
                                         const std::string& mark_as_read_token,
                                         const CallContext& call) {
  absl::StatusOr<Prepared> prepared = Prepare(team_id, channel_id);
  if (!prepared.ok()) return prepared.status();
  const absl::Time deadline = LineDeadline(call.deadline, clock_->Now(), options_.call_timeout);
  return Run<absl::Status>("mark_as_read", prepared->binding, [&] {
    return line_->MarkAsRead(prepared->token, mark_as_read_token, deadline);
  });
}

absl::Status OutboundService::ShowLoadingAnimation(absl::string_view team_id,
                                                   absl::string_view channel_id,
                                                   const std::string& chat_id, int loading_seconds,
                                                   const CallContext& call) {
  absl::StatusOr<Prepared> prepared = Prepare(team_id, channel_id);
  if (!prepared.ok()) return prepared.status();
  const absl::Time deadline = LineDeadline(call.deadline, clock_->Now(), options_.call_timeout);
  return Run<absl::Status>("loading", prepared->binding, [&] {
    return line_->ShowLoadingAnimation(prepared->token, chat_id,
                                       loading_seconds == 0 ? 20 : loading_seconds, deadline);
  });
}

absl::Status OutboundService::GetContent(absl::string_view team_id, absl::string_view channel_id,
                                         const std::string& message_id,
                                         const LineMessagingApi::ContentSink& sink,
                                         const CallContext& call) {
  absl::StatusOr<Prepared> prepared = Prepare(team_id, channel_id);
  if (!prepared.ok()) return prepared.status();
  const absl::Time deadline = LineDeadline(call.deadline, clock_->Now(), options_.content_timeout);
  int64_t bytes = 0;
  LineMessagingApi::ContentSink counting{sink.head, [&](absl::string_view chunk) {
                                           bytes += static_cast<int64_t>(chunk.size());
                                           return sink.chunk(chunk);
                                         }};
  absl::Status status = Run<absl::Status>("content", prepared->binding, [&] {
    return line_->GetContent(prepared->token, message_id, counting, deadline);
  });
  LogLine(LogLevel::kInfo, "content")
      .With("binding_id", prepared->binding.binding_id)
      .With("message_id", message_id)
      .With("bytes", bytes)
      .WithStatus(status);
  return status;
}

}  // namespace linechannel::server
