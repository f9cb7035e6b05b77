#ifndef LINECHANNEL_SERVER_GRPC_REFUSED_STREAM_H_
#define LINECHANNEL_SERVER_GRPC_REFUSED_STREAM_H_

#include <grpcpp/grpcpp.h>

namespace linechannel::server {

// A server stream that ends at once with `status` (a refused StreamEvents or
// GetMessageContent). Owns itself.
template <typename Message>
class RefusedStream : public grpc::ServerWriteReactor<Message> {
 public:
  explicit RefusedStream(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_REFUSED_STREAM_H_
