#ifndef LINECHANNEL_CLIENT_CHANNEL_CLIENT_H_
#define LINECHANNEL_CLIENT_CHANNEL_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "linechannel/v1/admin_service.grpc.pb.h"
#include "linechannel/v1/channel_service.grpc.pb.h"

namespace linechannel::client {

// What the server said about a failed call, decoded from the google.rpc.Status details.
struct ErrorDetails {
  std::string reason;
  std::map<std::string, std::string> metadata;
  // (field, description) for INVALID_ARGUMENT.
  std::vector<std::pair<std::string, std::string>> field_violations;
  // Zero when the server gave no retry advice.
  absl::Duration retry_delay;
};

// Turns a gRPC status into an absl::Status with the same code and message, carrying the
// server's details as payloads (read them back with DecodeErrorDetails).
absl::Status FromGrpcStatus(const grpc::Status& status);
ErrorDetails DecodeErrorDetails(const absl::Status& status);

// A thin client over the ChannelService stub: one method per RPC, each bounded by the
// timeout. Thread-safe.
class ChannelClient {
 public:
  struct Options {
    std::string target = "127.0.0.1:50051";
    absl::Duration timeout = absl::Seconds(30);
    // Sent as "authorization: Bearer <token>" on every call.
    std::string token;
    // TLS: the CA that signed the server's certificate (PEM text); empty for plain gRPC.
    std::string tls_ca_pem;
    // A client certificate and key (PEM text), for servers that require one.
    std::string tls_cert_pem;
    std::string tls_key_pem;
  };

  explicit ChannelClient(const Options& options);

  absl::StatusOr<v1::BindChannelResponse> BindChannel(const v1::BindChannelRequest& request);
  absl::StatusOr<v1::UnbindChannelResponse> UnbindChannel(const v1::UnbindChannelRequest& request);
  absl::StatusOr<v1::GetWebhookUrlResponse> GetWebhookUrl(const v1::GetWebhookUrlRequest& request);
  absl::StatusOr<v1::VerifyWebhookResponse> VerifyWebhook(const v1::VerifyWebhookRequest& request);
  absl::StatusOr<v1::Channel> GetChannel(const v1::GetChannelRequest& request);
  absl::StatusOr<v1::ListChannelsResponse> ListChannels(const v1::ListChannelsRequest& request);
  absl::StatusOr<v1::UpdateCredentialsResponse> UpdateCredentials(
      const v1::UpdateCredentialsRequest& request);
  absl::StatusOr<v1::ListEventsResponse> ListEvents(const v1::ListEventsRequest& request);

  absl::StatusOr<v1::RotateSealingKeyResponse> RotateSealingKey();
  absl::StatusOr<v1::RetireSealingKeyResponse> RetireSealingKey(const std::string& key_id);
  absl::StatusOr<v1::ListSealingKeysResponse> ListSealingKeys();
  absl::StatusOr<v1::ReloadCallersResponse> ReloadCallers();

  // Streams events to `on_event` until the server ends the stream or `on_event` returns
  // false (then OK). No timeout applies: a stream lasts as long as the caller wants.
  absl::Status StreamEvents(const v1::StreamEventsRequest& request,
                            const std::function<bool(const v1::Event&)>& on_event);

 private:
  template <typename Request, typename Response, typename Stub, typename Method>
  absl::StatusOr<Response> Call(Stub& stub, Method method, const Request& request);
  void Prepare(grpc::ClientContext& context, bool with_deadline) const;

  const Options options_;
  std::unique_ptr<v1::ChannelService::Stub> stub_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

}  // namespace linechannel::client

#endif  // LINECHANNEL_CLIENT_CHANNEL_CLIENT_H_
