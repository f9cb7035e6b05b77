#ifndef LINECHANNEL_SERVER_GRPC_CHANNEL_PROTO_H_
#define LINECHANNEL_SERVER_GRPC_CHANNEL_PROTO_H_

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "linechannel/v1/channel_service.pb.h"
#include "server/binding/binding_state.h"
#include "server/binding/unbind_leftovers.h"
#include "server/binding/webhook_report.h"
#include "server/binding/webhook_setup.h"
#include "storage/binding.h"
#include "storage/event.h"

namespace linechannel::server {

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out);

// The API's view of a stored binding: no secret, no token, only their hints.
void ToChannelProto(const storage::Binding& binding, const std::string& webhook_url,
                    v1::Channel* out);
// Sets the channel's chat modes (GetChannel's, from the last kept VerifyWebhook answer).
void ToChannelProto(const ResponseSettings& settings, v1::Channel* out);

// An audit row as the API shows it (its internal ids left out).
void ToAuditEntryProto(const storage::AuditRecord& record, v1::AuditEntry* out);

// A stored event as the API shows it.
void ToEventProto(const storage::StoredEvent& event, v1::Event* out);

// The binding room's plain types as the API shows them. Every value has its proto value.
v1::BindingState ToBindingStateProto(BindingState state);
void ToVerifyWebhookProto(const WebhookReport& report, v1::VerifyWebhookResponse* out);
void ToWebhookSetupProto(const WebhookSetup& setup, v1::WebhookSetup* out);
// The retired URL, the leftovers and what clearing did, into an UnbindChannel answer.
void ToUnbindReportProto(const UnbindReport& report, v1::UnbindChannelResponse* out);

// A ListChannels state filter: nullopt for BINDING_STATE_UNSPECIFIED (no filter) and for
// values this server does not know (request validation refuses those first).
std::optional<BindingState> FromBindingStateProto(v1::BindingState state);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_CHANNEL_PROTO_H_
