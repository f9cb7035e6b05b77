#ifndef LINECHANNEL_SERVER_WEBHOOK_HTTP_SERVER_H_
#define LINECHANNEL_SERVER_WEBHOOK_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/webhook_receiver.h"

namespace linechannel::server {

// The HTTP/1.1 side of the webhook endpoint (Boost.Beast): connections, keep-alive, limits and
// timeouts, and the order of work that lets a request be refused before its body is read.
// Routes `POST /line/webhook/<key>` to the WebhookReceiver; any other method on that path gets
// 405, any other path 404. Thread-safe.
class WebhookHttpServer {
 public:
  struct Options {
    // "host:port"; port 0 picks a free one.
    std::string listen = "127.0.0.1:8080";
    int threads = 2;
    // Bodies above this get 413, judged from Content-Length before any of the body is read.
    size_t max_body_bytes = 1 << 20;
    // A request's headers must all arrive within this (cuts slowloris clients).
    absl::Duration header_timeout = absl::Seconds(10);
    // The body must arrive within this once the headers are in.
    absl::Duration body_timeout = absl::Seconds(10);
    // A kept-alive connection may wait this long for its next request.
    absl::Duration idle_timeout = absl::Seconds(60);
  };

  // UNAVAILABLE if the address cannot be listened on.
  static absl::StatusOr<std::unique_ptr<WebhookHttpServer>> Start(const Options& options,
                                                                  WebhookReceiver* receiver);
  ~WebhookHttpServer();

  // "host:port" as bound.
  std::string address() const;

  // Stops accepting, lets requests already being handled finish until `grace` has passed,
  // then closes every connection. Idempotent.
  void Shutdown(absl::Duration grace);

  // The server's state; public only so the .cc file's connection class can name it.
  struct Impl;

 private:
  explicit WebhookHttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_WEBHOOK_HTTP_SERVER_H_
