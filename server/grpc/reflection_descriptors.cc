#include "server/grpc/reflection_descriptors.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.pb.h"

namespace linechannel::server {

void RegisterReflectionOnlyDescriptors() {
  grpc::health::v1::HealthCheckRequest::descriptor();
  google::rpc::Status::descriptor();
  google::rpc::ErrorInfo::descriptor();
}

}  // namespace linechannel::server
