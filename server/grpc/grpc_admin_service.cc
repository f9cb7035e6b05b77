#include "server/grpc/grpc_admin_service.h"

#include "server/base/errors.h"
#include "server/grpc/answer.h"

namespace linechannel::server {
namespace {

using Access = RpcGate::Access;

template <typename Keys>
void ToProto(const std::vector<KeyRotation::KeyUsage>& usage, Keys* out) {
  for (const KeyRotation::KeyUsage& key : usage) {
    v1::SealingKey* proto = out->Add();
    proto->set_key_id(key.key_id);
    proto->set_current(key.current);
    proto->set_sealed_values(key.sealed_values);
  }
}

}  // namespace

grpc::ServerUnaryReactor* GrpcAdminService::RotateSealingKey(
    grpc::CallbackServerContext* context, const v1::RotateSealingKeyRequest*,
    v1::RotateSealingKeyResponse* response) {
  return gate_->Blocking(context, {"RotateSealingKey", "", ""}, absl::OkStatus(), Access::kAdmin,
                         [this, response](const CallContext&) -> absl::Status {
                           return Answer(rotation_->Rotate(),
                                         [&](const KeyRotation::Rotated& rotated) {
                                           response->set_new_key_id(rotated.new_key_id);
                                           response->set_resealed_values(rotated.resealed_values);
                                           ToProto(rotated.keys, response->mutable_keys());
                                         });
                         });
}

grpc::ServerUnaryReactor* GrpcAdminService::RetireSealingKey(
    grpc::CallbackServerContext* context, const v1::RetireSealingKeyRequest* request,
    v1::RetireSealingKeyResponse* response) {
  const absl::Status valid =
      request->key_id().empty()
          ? InvalidFieldsError({{"key_id", "required: a key id from ListSealingKeys"}})
          : absl::OkStatus();
  return gate_->Blocking(context, {"RetireSealingKey", "", ""}, valid, Access::kAdmin,
                         [this, request, response](const CallContext&) -> absl::Status {
                           return Answer(rotation_->Retire(request->key_id()),
                                         [&](const std::vector<KeyRotation::KeyUsage>& keys) {
                                           ToProto(keys, response->mutable_keys());
                                         });
                         });
}

grpc::ServerUnaryReactor* GrpcAdminService::ListSealingKeys(grpc::CallbackServerContext* context,
                                                            const v1::ListSealingKeysRequest*,
                                                            v1::ListSealingKeysResponse* response) {
  return gate_->Inline(context, {"ListSealingKeys", "", ""}, absl::OkStatus(), Access::kAdmin,
                       [&](const CallContext&) -> absl::Status {
                         return Answer(rotation_->Usage(),
                                       [&](const std::vector<KeyRotation::KeyUsage>& keys) {
                                         ToProto(keys, response->mutable_keys());
                                       });
                       });
}

grpc::ServerUnaryReactor* GrpcAdminService::ReloadCallers(grpc::CallbackServerContext* context,
                                                          const v1::ReloadCallersRequest*,
                                                          v1::ReloadCallersResponse* response) {
  return gate_->Inline(context, {"ReloadCallers", "", ""}, absl::OkStatus(), Access::kAdmin,
                       [&](const CallContext&) -> absl::Status {
                         if (absl::Status reloaded = callers_->Reload(); !reloaded.ok()) {
                           return ReasonedError(absl::StatusCode::kInvalidArgument,
                                                "CALLERS_FILE_INVALID", reloaded.message());
                         }
                         response->set_callers(static_cast<int>(callers_->callers()->size()));
                         return absl::OkStatus();
                       });
}

}  // namespace linechannel::server
