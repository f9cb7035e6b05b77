#include "server/grpc/outbound_proto.h"

#include "server/grpc/channel_proto.h"
#include "server/messaging/sent_messages.h"

namespace linechannel::server {
namespace {

v1::PushState ToPushStateProto(storage::PushState state) {
  switch (state) {
    case storage::PushState::kPending:
      return v1::PENDING;
    case storage::PushState::kSent:
      return v1::SENT;
    case storage::PushState::kFailed:
      return v1::FAILED;
  }
  return v1::PUSH_STATE_UNSPECIFIED;
}

}  // namespace

void ToSentMessagesProto(const std::vector<LineSentMessage>& sent,
                         google::protobuf::RepeatedPtrField<v1::SentMessage>* out) {
  for (const LineSentMessage& message : sent) {
    v1::SentMessage* added = out->Add();
    added->set_id(message.id);
    added->set_quote_token(message.quote_token);
  }
}

void ToPushProto(const storage::PushRecord& push, v1::Push* out) {
  out->set_request_id(push.request_id);
  out->set_to(push.to);
  out->set_state(ToPushStateProto(push.state));
  out->set_attempts(push.attempts);
  SetTimestamp(push.accepted_at, out->mutable_accept_time());
  if (push.finished_at) SetTimestamp(*push.finished_at, out->mutable_finish_time());
  if (push.state == storage::PushState::kPending) {
    SetTimestamp(push.next_attempt_at, out->mutable_next_attempt_time());
  }
  ToSentMessagesProto(DecodeSentMessages(push.sent_messages_json), out->mutable_sent_messages());
  out->set_line_request_id(push.line_request_id);
  out->set_failure_reason(push.failure_reason);
  out->set_failure_message(push.failure_message);
  out->set_retry_key(push.retry_key);
}

void ToProfileProto(const LineProfile& profile, v1::Profile* out) {
  out->set_user_id(profile.user_id);
  out->set_display_name(profile.display_name);
  out->set_picture_url(profile.picture_url);
  out->set_status_message(profile.status_message);
  out->set_language(profile.language);
}

void ToQuotaProto(const LineQuota& quota, v1::MessageQuota* out) {
  out->set_limited(quota.limited);
  out->set_limit(quota.limit);
  out->set_used(quota.used);
}

}  // namespace linechannel::server
