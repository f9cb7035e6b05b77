#ifndef LINECHANNEL_CLIENT_CHANNEL_CLIENT_H_
#define LINECHANNEL_CLIENT_CHANNEL_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
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
  // The server's x-request-id for the call: the request_id of its log line (not a push's own
  // request id). Empty when it sent none: an older server, an error of an admitted stream,
  // or a call that never reached the server's code (no connection, deadline, gRPC's limits).
  std::string server_request_id;
};

// Turns a finished call's gRPC status into an absl::Status with the same code and message,
// carrying the server's details and its request id (x-request-id) as payloads (read them back with
// DecodeErrorDetails).
absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context);
ErrorDetails DecodeErrorDetails(const absl::Status& status);

// A thin client over the ChannelService and AdminService stubs. Thread-safe.
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

  // A generated stub's blocking unary method, e.g. &v1::ChannelService::Stub::GetChannel.
  template <typename Stub, typename Request, typename Response>
  using UnaryMethod = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Response*);

  // Any unary RPC of ChannelService or AdminService, bounded by the timeout; a failure keeps
  // the server's error details (read them with DecodeErrorDetails).
  template <typename Stub, typename Request, typename Response>
  absl::StatusOr<Response> Call(UnaryMethod<Stub, Request, Response> method,
                                const Request& request) {
    grpc::ClientContext context;
    Prepare(context, options_.timeout);
    Response response;
    const grpc::Status status = (StubOf<Stub>().*method)(&context, request, &response);
    if (!status.ok()) return FromGrpcStatus(status, context);
    return response;
  }

  // Streams events to `on_event` until the server ends the stream or `on_event` returns
  // false (then OK). No timeout applies: a stream lasts as long as the caller wants.
  absl::Status StreamEvents(const v1::StreamEventsRequest& request,
                            const std::function<bool(const v1::Event&)>& on_event);

  // Streams a message's content to `on_chunk`, chunk by chunk in order, until the server ends
  // the stream (its status is returned) or `on_chunk` returns false (then CANCELLED: the
  // content is incomplete). The whole download is bounded by `timeout` (DEADLINE_EXCEEDED),
  // not by Options::timeout, since large videos take long.
  absl::Status ReadMessageContent(
      const v1::GetMessageContentRequest& request, absl::Duration timeout,
      const std::function<bool(const v1::MessageContentChunk&)>& on_chunk);

 private:
  // A generated stub's blocking server-streaming method, e.g.
  // &v1::ChannelService::Stub::StreamEvents.
  template <typename Request, typename Item>
  using StreamingMethod = std::unique_ptr<grpc::ClientReader<Item>> (v1::ChannelService::Stub::*)(
      grpc::ClientContext*, const Request&);

  // A server-streaming call, item by item, as StreamEvents describes; `stopped` tells whether
  // `on_item` ended it.
  template <typename Request, typename Item>
  absl::Status Stream(StreamingMethod<Request, Item> method, const Request& request,
                      absl::Duration timeout, const std::function<bool(const Item&)>& on_item,
                      bool* stopped);

  // A generated stub's blocking unary method, e.g. &v1::ChannelService::Stub::GetChannel.
  template <typename Stub>
  Stub& StubOf() {
    if constexpr (std::is_same_v<Stub, v1::AdminService::Stub>) {
      return *admin_;
    } else {
      return *stub_;
    }
  }
  // Adds the token, and a deadline unless `timeout` is infinite.
  void Prepare(grpc::ClientContext& context, absl::Duration timeout) const;

  const Options options_;
  std::unique_ptr<v1::ChannelService::Stub> stub_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

}  // namespace linechannel::client

#endif  // LINECHANNEL_CLIENT_CHANNEL_CLIENT_H_
