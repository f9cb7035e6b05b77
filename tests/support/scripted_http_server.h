#ifndef LINECHANNEL_TESTS_SUPPORT_SCRIPTED_HTTP_SERVER_H_
#define LINECHANNEL_TESTS_SUPPORT_SCRIPTED_HTTP_SERVER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linechannel::testing {

// An HTTP/1.1 server on 127.0.0.1 (a free port) that answers every request with whatever the
// test's handler returns, and records what it received. For testing HTTP clients against
// real sockets. Thread-safe.
class ScriptedHttpServer {
 public:
  struct Request {
    std::string method;
    std::string target;
    // Header names lower-cased.
    std::map<std::string, std::string> headers;
    std::string body;
  };
  struct Response {
    int status = 200;
    std::string body;
    std::map<std::string, std::string> headers;
    // Waits this long before answering (for timeout tests).
    absl::Duration delay;
  };
  using Handler = std::function<Response(const Request&)>;

  explicit ScriptedHttpServer(Handler handler);
  ~ScriptedHttpServer();

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Request> requests() const;
  // How many TCP connections clients opened.
  int connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_SUPPORT_SCRIPTED_HTTP_SERVER_H_
