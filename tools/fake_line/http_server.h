#ifndef LINECHANNEL_TOOLS_FAKE_LINE_HTTP_SERVER_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_HTTP_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/fake_line/http_message.h"

namespace linechannel::fake_line {

// An HTTP/1.1 server with keep-alive that gives each connection its own thread, so a handler
// may block (injected delays, webhook POSTs to other servers) without holding up other
// connections. Answers "Expect: 100-continue", refuses bodies over 16 MiB with 413 and
// malformed requests with 400, and puts a random X-Line-Request-Id header (as LINE does) on
// every response (the handler sees it as HttpRequest::request_id). Streams a response's
// BodyStream in 64 KiB pieces, and closes the connection without a word when the response says
// drop_connection. Thread-safe.
class HttpServer {
 public:
  // Listens on `host`:`port` (port 0 picks a free one) and starts serving with `handler`.
  // UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const std::string& host, int port,
                                                           HttpHandler handler);
  // Calls Shutdown() with a zero grace period if it has not been called.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port actually bound.
  int port() const;

  // Stops accepting, cuts every open connection and waits up to `grace` for running handlers
  // to return. True if all connection threads finished; false leaves stragglers running, and
  // the caller should then end the process without destroying what handlers use.
  bool Shutdown(absl::Duration grace);

 private:
  struct Impl;
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_HTTP_SERVER_H_
