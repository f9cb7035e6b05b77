#ifndef LINECHANNEL_SERVER_GRPC_CHANNEL_PROTO_H_
#define LINECHANNEL_SERVER_GRPC_CHANNEL_PROTO_H_

#include <string>

#include "linechannel/v1/channel_service.pb.h"
#include "storage/binding.h"
#include "storage/event.h"

namespace linechannel::server {

// The API's view of a stored binding: no secret, no token, only their hints.
void ToChannelProto(const storage::Binding& binding, const std::string& webhook_url,
                    v1::Channel* out);

// A stored event as the API shows it.
void ToEventProto(const storage::StoredEvent& event, v1::Event* out);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_CHANNEL_PROTO_H_
