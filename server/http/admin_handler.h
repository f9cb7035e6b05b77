#ifndef LINECHANNEL_SERVER_HTTP_ADMIN_HANDLER_H_
#define LINECHANNEL_SERVER_HTTP_ADMIN_HANDLER_H_

#include <atomic>
#include <optional>

#include "server/base/metrics.h"
#include "server/http/http_server.h"

namespace linechannel::server {

// Routes a build adds to the admin port: channeld_test_hooks adds its storage faults this way
// (tests/support/); production channeld adds none. Thread-safe.
class AdminRoutes {
 public:
  virtual ~AdminRoutes() = default;
  // The answer if `head` is one of these routes; nullopt leaves the request to AdminHandler.
  virtual std::optional<HttpAnswer> Answer(const HttpHead& head) = 0;
};

// The admin port's routes, for operators and monitoring, kept off the internet-facing webhook
// port: `GET /metrics` (Prometheus text), `GET /healthz` (200 serving; 503 once shutting
// down, or while the database cannot be reached), and those of `extra` if given. Thread-safe.
class AdminHandler : public HttpHandler {
 public:
  // `extra` may be null; it is not owned and must outlive the handler. It is asked first.
  AdminHandler(const Metrics* metrics, AdminRoutes* extra) : metrics_(metrics), extra_(extra) {}

  Decision OnHead(const HttpHead& head) override;
  void SetShuttingDown() { shutting_down_ = true; }
  void SetStoreReachable(bool reachable) { store_unreachable_ = !reachable; }

 private:
  const Metrics* const metrics_;
  AdminRoutes* const extra_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> store_unreachable_{false};
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_HTTP_ADMIN_HANDLER_H_
