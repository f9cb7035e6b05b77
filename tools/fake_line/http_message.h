#ifndef LINECHANNEL_TOOLS_FAKE_LINE_HTTP_MESSAGE_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_HTTP_MESSAGE_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace linechannel::fake_line {

// An incoming request, independent of the HTTP library.
struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string path;                            // The target without its query string.
  std::string query;                           // After '?', undecoded; empty if none.
  std::map<std::string, std::string> headers;  // Names lower-cased.
  std::string body;

  // The header's value, or "" if absent. `name` must be lower case.
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// An answer to send. `body` is JSON unless `content_type` says otherwise.
struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Answers one request; must be safe to call from many threads at once.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_HTTP_MESSAGE_H_
