#ifndef LINECHANNEL_SERVER_GRPC_GRPC_STATUS_H_
#define LINECHANNEL_SERVER_GRPC_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace linechannel::server {

// The one conversion from our errors to gRPC's: same code and message, and every payload
// (ErrorInfo, BadRequest, RetryInfo) as a detail of a google.rpc.Status in the
// grpc-status-details-bin trailer, where grpcurl and the google.rpc-aware clients find them.
// An error without a reason gets one from its code, so every error has an ErrorInfo.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_GRPC_STATUS_H_
