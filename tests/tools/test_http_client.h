#ifndef LINECHANNEL_TESTS_TOOLS_TEST_HTTP_CLIENT_H_
#define LINECHANNEL_TESTS_TOOLS_TEST_HTTP_CLIENT_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace linechannel::testing {

// A reply as the test sees it.
struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // Names lower-cased.
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A minimal HTTP/1.1 client for 127.0.0.1:`port`, keeping one connection alive across calls
// (and reconnecting when the server closed it). Not thread-safe: one per thread.
class TestHttpClient {
 public:
  explicit TestHttpClient(int port);
  ~TestHttpClient();

  // From now on, a call whose answer has not started arriving within `timeout` fails with
  // DEADLINE_EXCEEDED and closes the connection, as a client with a read timeout does.
  // Zero (the default): wait for ever.
  void set_timeout(absl::Duration timeout);

  // Sends one request. `content_type` is only set when `body` is not empty. Extra `headers`
  // are added as given.
  absl::StatusOr<HttpReply> Call(const std::string& method, const std::string& target,
                                 const std::string& body = "",
                                 const std::map<std::string, std::string>& headers = {},
                                 const std::string& content_type = "application/json");

  // Shorthands; on a transport error they return a reply with status -1 and the error as body,
  // so assertions on the status fail with a readable message.
  HttpReply Get(const std::string& target, const std::map<std::string, std::string>& headers = {});
  HttpReply PostJson(const std::string& target, const std::string& json,
                     const std::map<std::string, std::string>& headers = {});
  HttpReply PostForm(const std::string& target, const std::string& form);
  HttpReply PutJson(const std::string& target, const std::string& json,
                    const std::map<std::string, std::string>& headers = {});
  HttpReply PatchJson(const std::string& target, const std::string& json);
  HttpReply Delete(const std::string& target);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_TOOLS_TEST_HTTP_CLIENT_H_
