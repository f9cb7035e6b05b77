#ifndef LINECHANNEL_SERVER_LINE_CURL_EXCHANGE_H_
#define LINECHANNEL_SERVER_LINE_CURL_EXCHANGE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/crypto/secret.h"

namespace linechannel::server {

// One HTTP exchange with LINE at a time per call, over libcurl handles that are kept idle for
// reuse (and so their open connections). It reports what happened on the wire and leaves the
// meaning of it to the caller: the management and the messaging calls read the same failure
// differently. Thread-safe.
class CurlExchange {
 public:
  struct Options {
    // Upper bound of one exchange, however far the caller's deadline is (unless the request
    // says `until_deadline`).
    absl::Duration timeout = absl::Seconds(10);
    absl::Duration connect_timeout = absl::Seconds(3);
    // A CA bundle to trust instead of the system's; empty for the system's.
    std::string ca_file;
  };

  // What LINE answered, or as much of it as arrived.
  struct Response {
    long status = 0;
    // The body, unless it went to a sink; at most 1 MiB (more fails the exchange).
    std::string body;
    std::string request_id;           // X-Line-Request-Id
    std::string accepted_request_id;  // x-line-accepted-request-id
    std::string retry_after;          // Retry-After
    std::string content_type;
    // -1 when LINE gave no Content-Length.
    int64_t content_length = -1;
  };

  // Where a 200 answer's body goes instead of Response::body: `head` once, with the status and
  // headers, before any `chunk` (also when the body is empty). Either returning false stops the
  // exchange (Outcome::stopped).
  struct BodySink {
    std::function<bool(const Response& head)> head;
    std::function<bool(absl::string_view chunk)> chunk;
  };

  struct Request {
    std::string method;
    // Complete, with scheme and host.
    std::string url;
    // Sent as application/x-www-form-urlencoded when not empty. Values are secrets because
    // they often are (client_secret, access_token).
    std::vector<std::pair<std::string, Secret>> form;
    // Sent as "Authorization: Bearer ..." when set.
    const Secret* bearer = nullptr;
    // Sent as application/json when not empty.
    std::string json;
    // More header lines ("Name: value"), never secrets.
    std::vector<std::string> headers;
    // When set, receives a 200 answer's body (see BodySink).
    const BodySink* sink = nullptr;
    // The exchange may take until the deadline rather than Options::timeout (downloads).
    bool until_deadline = false;
  };

  // What became of an exchange. `error` is empty when LINE answered (with any status).
  struct Outcome {
    Response response;
    // curl's words for the failure; empty when LINE answered.
    std::string error;
    // The deadline had passed before anything was tried.
    bool no_time_left = false;
    // curl gave up at its timeout; `deadline_cut` when that timeout was the caller's deadline.
    bool timed_out = false;
    bool deadline_cut = false;
    // Some of the request went out, so LINE may have received it. False when the host could
    // not be resolved or connected to (or the connection was not ready in time).
    bool sent = false;
    // The sink stopped the exchange.
    bool stopped = false;

    bool answered() const { return error.empty() && !no_time_left; }
  };

  explicit CurlExchange(Options options);
  ~CurlExchange();

  Outcome Perform(const Request& request, absl::Time deadline);

  // `value` escaped for a URL path segment or form value.
  static std::string Escape(absl::string_view value);

 private:
  void* TakeHandle();
  void ReturnHandle(void* handle);

  const Options options_;
  absl::Mutex mu_;
  std::vector<void*> idle_handles_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_LINE_CURL_EXCHANGE_H_
