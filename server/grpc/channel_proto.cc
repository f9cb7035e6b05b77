#include "server/grpc/channel_proto.h"

#include "google/protobuf/util/time_util.h"
#include "server/binding/binding_health.h"

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
  const BindingHealth health = HealthOf(binding);
  out->set_state(health.state);
  for (const std::string& reason : health.reasons) out->add_attention_reasons(reason);
  if (binding.checked_at) SetTimestamp(*binding.checked_at, out->mutable_check_time());
  SetTimestamp(binding.bound_at, out->mutable_bind_time());
  SetTimestamp(binding.credentials_updated_at, out->mutable_credentials_update_time());
  if (binding.unbound_at) SetTimestamp(*binding.unbound_at, out->mutable_unbind_time());
  out->set_verified_with_line(binding.verified_with_line);
}

void ToEventProto(const storage::StoredEvent& stored, v1::Event* out) {
  const storage::NewEvent& e = stored.event;
  out->set_cursor(stored.cursor);
  out->set_team_id(stored.team_id);
  out->set_channel_id(stored.channel_id);
  out->set_binding_id(stored.binding_id);
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

}  // namespace linechannel::server
