#ifndef LINECHANNEL_SERVER_HTTP_ADMIN_HANDLER_H_
#define LINECHANNEL_SERVER_HTTP_ADMIN_HANDLER_H_

#include <atomic>

#include "server/http/http_server.h"
#include "server/base/metrics.h"

namespace linechannel::server {

// The admin port's routes, for operators and monitoring, kept off the internet-facing webhook
// port: `GET /metrics` (Prometheus text), `GET /healthz` (200 serving, 503 once shutting
// down). With test hooks on (never in production) also `POST /test/storage_fault?fault=...`
// (see storage/sqlite/fault_injection.h). Thread-safe.
class AdminHandler : public HttpHandler {
 public:
  AdminHandler(const Metrics* metrics, bool test_hooks)
      : metrics_(metrics), test_hooks_(test_hooks) {}

  Decision OnHead(const HttpHead& head) override;
  void SetShuttingDown() { shutting_down_ = true; }

 private:
  const Metrics* const metrics_;
  const bool test_hooks_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_HTTP_ADMIN_HANDLER_H_
