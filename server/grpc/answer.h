#ifndef LINECHANNEL_SERVER_GRPC_ANSWER_H_
#define LINECHANNEL_SERVER_GRPC_ANSWER_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace linechannel::server {

// The work of most unary RPCs: a service's result written into the response by `write`, or
// the service's error as it is (the gate maps it to gRPC).
template <typename T, typename Write>
absl::Status Answer(absl::StatusOr<T> result, const Write& write) {
  if (!result.ok()) return result.status();
  write(*result);
  return absl::OkStatus();
}

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_ANSWER_H_
