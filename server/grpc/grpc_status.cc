#include "server/grpc/grpc_status.h"

#include <string>

#include "google/rpc/status.pb.h"
#include "server/base/errors.h"

namespace linechannel::server {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const absl::Status reasoned = WithReason(status);
  google::rpc::Status details;
  details.set_code(static_cast<int>(reasoned.code()));
  details.set_message(std::string(reasoned.message()));
  reasoned.ForEachPayload([&details](absl::string_view type_url, const absl::Cord& payload) {
    google::protobuf::Any* any = details.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
  });
  return grpc::Status(static_cast<grpc::StatusCode>(reasoned.code()),
                      std::string(reasoned.message()), details.SerializeAsString());
}

}  // namespace linechannel::server
