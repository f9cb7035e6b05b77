#ifndef LINECHANNEL_TOOLS_FAKE_LINE_HTTP_MESSAGE_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_HTTP_MESSAGE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
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
  // The X-Line-Request-Id the answer will carry, chosen before the handler runs so that a
  // handler can record it.
  std::string request_id;

  // The header's value, or "" if absent. `name` must be lower case.
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A body produced piece by piece while it is written, so that large content never sits in
// memory whole. `fill` writes bytes [offset, offset + size) of the body to `out`; it must be
// safe to call from any thread.
struct BodyStream {
  uint64_t length = 0;
  std::function<void(uint64_t offset, size_t size, char* out)> fill;
};

// An answer to send. `body` is JSON unless `content_type` says otherwise.
struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is streamed from here (with a Content-Length) and `body` is ignored.
  std::shared_ptr<const BodyStream> stream;
  // Close the connection without answering at all (an answer lost on the way back).
  bool drop_connection = false;
};

// Answers one request; must be safe to call from many threads at once.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_HTTP_MESSAGE_H_
