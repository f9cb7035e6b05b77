#ifndef LINECHANNEL_TOOLS_FAKE_LINE_HTTP_CLIENT_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_HTTP_CLIENT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace linechannel::fake_line {

// What became of one outgoing request.
struct HttpResult {
  enum class Outcome {
    kResponse,         // A complete HTTP response arrived, whatever its status.
    kCouldNotConnect,  // Name resolution or the TCP connection failed (e.g. refused).
    kTimeout,          // The whole exchange did not finish within the timeout.
    kTlsFailure,       // The TLS handshake failed (untrusted certificate, wrong host name...).
    kFailed,           // Anything else: bad URL, connection cut before a full response.
  };
  Outcome outcome = Outcome::kFailed;
  int status = 0;      // The HTTP status; 0 without a response.
  std::string reason;  // The status line's reason phrase, e.g. "Not Found".
  std::string body;
  std::string error;  // Why there is no response; empty with one.
  absl::Duration latency;
};

struct HttpClientOptions {
  // Limit for the whole exchange: resolve, connect, TLS handshake, write, read.
  absl::Duration timeout = absl::Seconds(2);
  // PEM file of CAs trusted for https URLs; empty uses the system's default CA paths.
  std::string ca_file;
};

// Sends one HTTP/1.1 POST per call over a fresh connection (plain or TLS 1.2+ with certificate
// and host-name verification), and closes it after the response. Thread-safe: calls from many
// threads run in parallel, each on its own io_context.
class HttpClient {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // INVALID_ARGUMENT if `options.ca_file` cannot be loaded.
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(const HttpClientOptions& options);
  ~HttpClient();

  // POSTs `body` with `headers` (plus Host and Content-Length) to the http(s) `url`.
  HttpResult Post(absl::string_view url, const Headers& headers, absl::string_view body) const;

 private:
  HttpClient(const HttpClientOptions& options, std::unique_ptr<boost::asio::ssl::context> tls);

  const HttpClientOptions options_;
  // SSL_CTX may be shared by connections on many threads once configured.
  const std::unique_ptr<boost::asio::ssl::context> tls_;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_HTTP_CLIENT_H_
