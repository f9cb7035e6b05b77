#ifndef LINECHANNEL_SERVER_GRPC_GRPC_ADMIN_SERVICE_H_
#define LINECHANNEL_SERVER_GRPC_GRPC_ADMIN_SERVICE_H_

#include "linechannel/v1/admin_service.grpc.pb.h"
#include "server/grpc/callers.h"
#include "server/binding/key_rotation.h"
#include "server/grpc/rpc_gate.h"

namespace linechannel::server {

// The gRPC edge of AdminService: admin callers only (through the RpcGate). Thread-safe.
class GrpcAdminService final : public v1::AdminService::CallbackService {
 public:
  GrpcAdminService(RpcGate* gate, KeyRotation* rotation, CallerDirectory* callers)
      : gate_(gate), rotation_(rotation), callers_(callers) {}

  grpc::ServerUnaryReactor* RotateSealingKey(grpc::CallbackServerContext* context,
                                             const v1::RotateSealingKeyRequest* request,
                                             v1::RotateSealingKeyResponse* response) override;
  grpc::ServerUnaryReactor* RetireSealingKey(grpc::CallbackServerContext* context,
                                             const v1::RetireSealingKeyRequest* request,
                                             v1::RetireSealingKeyResponse* response) override;
  grpc::ServerUnaryReactor* ListSealingKeys(grpc::CallbackServerContext* context,
                                            const v1::ListSealingKeysRequest* request,
                                            v1::ListSealingKeysResponse* response) override;
  grpc::ServerUnaryReactor* ReloadCallers(grpc::CallbackServerContext* context,
                                          const v1::ReloadCallersRequest* request,
                                          v1::ReloadCallersResponse* response) override;

 private:
  RpcGate* const gate_;
  KeyRotation* const rotation_;
  CallerDirectory* const callers_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_GRPC_ADMIN_SERVICE_H_
