#ifndef LINECHANNEL_TOOLS_FAKE_LINE_URL_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_URL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linechannel::fake_line {

// An absolute http(s) URL split into what a client needs to send a request.
struct HttpUrl {
  bool tls = false;         // https
  std::string host;         // Without brackets for an IPv6 literal.
  std::string port;         // Explicit port, or "80"/"443".
  std::string target;       // Path and query, at least "/"; the fragment is dropped.
  std::string host_header;  // What the Host header carries: host[:port] as written.
};

// Parses `url`. INVALID_ARGUMENT (with the reason) unless it is http:// or https:// with a
// non-empty host, no user info, an optional port in 1..65535, and only printable ASCII.
absl::StatusOr<HttpUrl> ParseHttpUrl(absl::string_view url);

// LINE's rule for a webhook URL (http is accepted too, since tests serve plain HTTP on
// loopback): ParseHttpUrl succeeds and the URL has at most 500 characters. The error message
// says what is wrong.
absl::Status ValidateWebhookUrl(absl::string_view url);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_URL_H_
