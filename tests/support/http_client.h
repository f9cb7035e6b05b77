#ifndef LINECHANNEL_TESTS_SUPPORT_HTTP_CLIENT_H_
#define LINECHANNEL_TESTS_SUPPORT_HTTP_CLIENT_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace linechannel::testing {

struct HttpResponse {
  int status = 0;
  // Header names lower-cased.
  std::map<std::string, std::string> headers;
  std::string body;
};

// One HTTP/1.1 request over a new connection to "http://host:port/path...". For tests:
// no TLS, no redirects. UNAVAILABLE if the server cannot be reached or answers nothing.
absl::StatusOr<HttpResponse> HttpCall(const std::string& method, const std::string& url,
                                      const std::string& body = "",
                                      const std::map<std::string, std::string>& headers = {},
                                      absl::Duration timeout = absl::Seconds(30));

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_SUPPORT_HTTP_CLIENT_H_
