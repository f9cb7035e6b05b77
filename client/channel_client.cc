#include "client/channel_client.h"

#include "absl/strings/cord.h"
#include "google/protobuf/duration.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace linechannel::client {
namespace {

// The payload that carries the server's request id (its x-request-id trailer); not a type
// URL, so no error detail can take it.
constexpr char kServerRequestIdPayload[] = "x-request-id";

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status, const grpc::ClientContext& context) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      out.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  const auto& trailers = context.GetServerTrailingMetadata();
  if (const auto id = trailers.find(kServerRequestIdPayload); id != trailers.end()) {
    out.SetPayload(kServerRequestIdPayload,
                   absl::Cord(absl::string_view(id->second.data(), id->second.size())));
  }
  return out;
}

ErrorDetails DecodeErrorDetails(const absl::Status& status) {
  ErrorDetails out;
  status.ForEachPayload([&out](absl::string_view type_url, const absl::Cord& payload) {
    if (type_url == kServerRequestIdPayload) {
      out.server_request_id = std::string(payload);
      return;
    }
    google::protobuf::Any any;
    any.set_type_url(std::string(type_url));
    any.set_value(std::string(payload));
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad_request;
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&info)) {
      out.reason = info.reason();
      out.metadata.insert(info.metadata().begin(), info.metadata().end());
    } else if (any.UnpackTo(&bad_request)) {
      for (const auto& v : bad_request.field_violations()) {
        out.field_violations.emplace_back(v.field(), v.description());
      }
    } else if (any.UnpackTo(&retry)) {
      out.retry_delay = absl::Seconds(retry.retry_delay().seconds()) +
                        absl::Nanoseconds(retry.retry_delay().nanos());
    }
  });
  return out;
}

namespace {

std::shared_ptr<grpc::ChannelCredentials> Credentials(const ChannelClient::Options& options) {
  if (options.tls_ca_pem.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = options.tls_ca_pem;
  ssl.pem_cert_chain = options.tls_cert_pem;
  ssl.pem_private_key = options.tls_key_pem;
  return grpc::SslCredentials(ssl);
}

}  // namespace

ChannelClient::ChannelClient(const Options& options) : options_(options) {
  auto channel = grpc::CreateChannel(options.target, Credentials(options));
  stub_ = v1::ChannelService::NewStub(channel);
  admin_ = v1::AdminService::NewStub(channel);
}

void ChannelClient::Prepare(grpc::ClientContext& context, absl::Duration timeout) const {
  if (timeout != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }
  if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
}

template <typename Request, typename Item>
absl::Status ChannelClient::Stream(StreamingMethod<Request, Item> method, const Request& request,
                                   absl::Duration timeout,
                                   const std::function<bool(const Item&)>& on_item, bool* stopped) {
  grpc::ClientContext context;
  Prepare(context, timeout);
  std::unique_ptr<grpc::ClientReader<Item>> reader = ((*stub_).*method)(&context, request);
  Item item;
  *stopped = false;
  while (reader->Read(&item)) {
    if (!on_item(item)) {
      *stopped = true;
      context.TryCancel();
      reader->Finish();
      return absl::OkStatus();
    }
  }
  return FromGrpcStatus(reader->Finish(), context);
}

absl::Status ChannelClient::StreamEvents(const v1::StreamEventsRequest& request,
                                         const std::function<bool(const v1::Event&)>& on_event) {
  bool stopped = false;
  return Stream(&v1::ChannelService::Stub::StreamEvents, request, absl::InfiniteDuration(),
                on_event, &stopped);
}

absl::Status ChannelClient::ReadMessageContent(
    const v1::GetMessageContentRequest& request, absl::Duration timeout,
    const std::function<bool(const v1::MessageContentChunk&)>& on_chunk) {
  bool stopped = false;
  const absl::Status status =
      Stream(&v1::ChannelService::Stub::GetMessageContent, request, timeout, on_chunk, &stopped);
  if (stopped) return absl::CancelledError("the download was stopped before its end");
  return status;
}

}  // namespace linechannel::client
