#ifndef LINECHANNEL_SERVER_GRPC_OUTBOUND_PROTO_H_
#define LINECHANNEL_SERVER_GRPC_OUTBOUND_PROTO_H_

#include <string>
#include <vector>

#include "google/protobuf/repeated_ptr_field.h"
#include "linechannel/v1/messaging.pb.h"
#include "server/line/line_messaging_api.h"
#include "storage/push.h"

namespace linechannel::server {

// The outbound RPCs' results as the API shows them (messaging.proto).
void ToPushProto(const storage::PushRecord& push, v1::Push* out);
void ToSentMessagesProto(const std::vector<LineSentMessage>& sent,
                         google::protobuf::RepeatedPtrField<v1::SentMessage>* out);
void ToProfileProto(const LineProfile& profile, v1::Profile* out);
void ToQuotaProto(const LineQuota& quota, v1::MessageQuota* out);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_OUTBOUND_PROTO_H_
