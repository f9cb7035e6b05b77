#ifndef LINECHANNEL_TESTS_TOOLS_WEBHOOK_RECEIVER_H_
#define LINECHANNEL_TESTS_TOOLS_WEBHOOK_RECEIVER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace linechannel::testing {

// Plays "our webhook endpoint" for fake_line's tests: an HTTP/1.1 server on 127.0.0.1 (a free
// port), optionally over TLS, that records every request and answers with a configurable
// status, or holds the answer until Release() to act as a slow server. Thread-safe.
class WebhookReceiver {
 public:
  struct Request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // Names lower-cased.
    std::string body;

    std::string Header(const std::string& name) const {
      auto it = headers.find(name);
      return it == headers.end() ? "" : it->second;
    }
  };

  struct TlsIdentity {
    std::string certificate_chain_pem;
    std::string private_key_pem;
  };

  // Plain HTTP.
  WebhookReceiver();
  // HTTPS with the given certificate.
  explicit WebhookReceiver(const TlsIdentity& tls);
  // Releases held requests and stops.
  ~WebhookReceiver();

  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  int port() const;
  // "http://127.0.0.1:<port>" + `path` (https://localhost:<port> for TLS receivers).
  std::string Url(const std::string& path = "/webhook") const;

  // The status later requests are answered with (200 at first).
  void AnswerWith(int status);
  // From now on, requests are recorded but not answered until Release() (or destruction).
  void Hold();
  void Release();

  // Every request received so far, in arrival order. A request is recorded before it is
  // answered, so once fake_line reports a POST as done, it is here.
  std::vector<Request> requests() const;

  // Waits (on a condition, not a sleep) until at least `count` requests have arrived; false
  // if they have not within `timeout`.
  bool WaitForRequests(size_t count, absl::Duration timeout = absl::Seconds(10)) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// A loopback port nothing listens on (bound once, then closed), for "connection refused".
int ClosedPort();

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_TOOLS_WEBHOOK_RECEIVER_H_
