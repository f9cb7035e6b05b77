#ifndef LINECHANNEL_SERVER_GRPC_REFLECTION_DESCRIPTORS_H_
#define LINECHANNEL_SERVER_GRPC_REFLECTION_DESCRIPTORS_H_

namespace linechannel::server {

// Makes the descriptors of the health and error-detail types part of the binary's descriptor
// pool, which reflection serves: gRPC's built-in health service does not register them, and
// nothing else in the server names the error-detail messages by type. Call before building the
// gRPC server. Thread-safe; idempotent.
void RegisterReflectionOnlyDescriptors();

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_REFLECTION_DESCRIPTORS_H_
