#ifndef LINECHANNEL_SERVER_HTTP_HTTP_SERVER_H_
#define LINECHANNEL_SERVER_HTTP_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace linechannel::server {

// A request whose headers are in.
struct HttpHead {
  std::string method;
  // The target without its query.
  std::string path;
  // What follows '?', if anything.
  std::string query;
  bool has_body = false;
  std::optional<uint64_t> content_length;
};

// What a request gets.
struct HttpAnswer {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  // Extra fields for the request's log line (never secrets).
  std::vector<std::pair<std::string, std::string>> log_fields;
};

// Looks up a request header by name, case-insensitively.
using HeaderLookup = std::function<std::optional<absl::string_view>(absl::string_view name)>;

// Decides what requests get, in two steps, so a request can be refused before its body is
// read. Implementations are thread-safe.
class HttpHandler {
 public:
  // The second step, for a request whose body is wanted.
  class BodyStep {
   public:
    virtual ~BodyStep() = default;
    // `headers` is valid only during the call. `done` runs exactly once, on any thread.
    virtual void Run(std::string body, const HeaderLookup& headers,
                     std::function<void(HttpAnswer)> done) = 0;
  };
  struct Decision {
    // Set to answer now: the body, if any, is left unread and the connection closes.
    std::optional<HttpAnswer> answer;
    // Otherwise the body is read (within the server's limit) and handed to this.
    std::unique_ptr<BodyStep> body_step;
  };

  virtual ~HttpHandler() = default;
  virtual Decision OnHead(const HttpHead& head) = 0;
};

// What happened to one of an HttpServer's connections.
enum class ConnectionEvent {
  kOpened,
  kClosed,
  // Closed to make room for a newcomer (see HttpServer::Options::max_connections).
  kEvictedIdle,
  kEvictedIncomplete,
  // Full, and every connection busy with a request: the newcomer got 503.
  kRefusedFull,
  // accept() failed for want of a file descriptor; a connection is evicted and the accept
  // retried shortly (the newcomer waits in the listen backlog meanwhile).
  kRefusedNoDescriptors,
  // Cut by a deadline: headers (or TLS handshake), body, or the wait between requests.
  kHeaderTimeout,
  kBodyTimeout,
  kIdleTimeout,
};

// The Prometheus-style name of `event`'s outcome ("opened", "closed", "evicted", "refused",
// "timed_out") and its reason ("idle", "incomplete", "full", "no_descriptors", "header",
// "body"; empty for opened and closed).
struct ConnectionEventName {
  const char* outcome;
  const char* reason;
};
ConnectionEventName NameOf(ConnectionEvent event);

// An HTTP/1.1 server (Boost.Beast) on one address: connections, keep-alive, limits, timeouts
// and the two-step order of work, with one log line per request. Thread-safe.
class HttpServer {
 public:
  struct Options {
    // "host:port"; port 0 picks a free one.
    std::string listen;
    // The log line's event name ("webhook", "admin_http").
    std::string log_event = "http";
    int threads = 2;
    // Bodies above this get 413, judged from Content-Length before any of the body is read.
    size_t max_body_bytes = 1 << 20;
    // A request's headers must all arrive within this of its first byte (of the accept, or
    // the start of the TLS handshake, for a connection's first request): cuts slowloris
    // clients.
    absl::Duration header_timeout = absl::Seconds(3);
    // The body must arrive within this once the headers are in.
    absl::Duration body_timeout = absl::Seconds(3);
    // A kept-alive connection may wait this long for its next request...
    absl::Duration idle_timeout = absl::Seconds(60);
    // ...or only this long when half of `max_connections` or more are open.
    absl::Duration busy_idle_timeout = absl::Seconds(2);
    // At most this many connections are open. A newcomer beyond it evicts the connection idle
    // longest or, if none is idle, the one whose request has been incomplete longest (see
    // connection_table.h); only when every open connection has a request being handled is the
    // newcomer answered 503 at once and closed.
    int max_connections = 1024;
    // TLS (1.2 or later) with this PEM certificate chain and key; empty for plain HTTP.
    std::string tls_cert_file;
    std::string tls_key_file;
    // Told about every answer (for metrics).
    std::function<void(int status, absl::Duration latency)> on_answer;
    // Told about every connection opened, closed, evicted, refused or timed out (for
    // metrics). Called on the server's threads; must not block.
    std::function<void(ConnectionEvent event)> on_connection_event;
  };

  // UNAVAILABLE if the address cannot be listened on.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const Options& options,
                                                           HttpHandler* handler);
  ~HttpServer();

  // "host:port" as bound.
  std::string address() const;

  // Stops accepting, lets requests already being handled finish until `grace` has passed,
  // then closes every connection. Idempotent.
  void Shutdown(absl::Duration grace);

  // The server's state; public only so the .cc file's connection class can name it.
  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_HTTP_HTTP_SERVER_H_
