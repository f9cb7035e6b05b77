#include "server/channel_proto.h"

#include "google/protobuf/util/time_util.h"

namespace linechannel::server {
namespace {

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  *out = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
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
  out->set_state(binding.active() ? v1::ACTIVE : v1::UNBOUND);
  SetTimestamp(binding.bound_at, out->mutable_bind_time());
  SetTimestamp(binding.credentials_updated_at, out->mutable_credentials_update_time());
  if (binding.unbound_at) SetTimestamp(*binding.unbound_at, out->mutable_unbind_time());
  out->set_verified_with_line(binding.verified_with_line);
}

}  // namespace linechannel::server
