#ifndef LINECHANNEL_SERVER_ADMIN_HANDLER_H_
#define LINECHANNEL_SERVER_ADMIN_HANDLER_H_

#include <atomic>

#include "server/http_server.h"
#include "server/metrics.h"

namespace linechannel::server {

// The admin port's routes, for operators and monitoring, kept off the internet-facing webhook
// port: `GET /metrics` (Prometheus text), `GET /healthz` (200 serving, 503 once shutting
// down). Thread-safe.
class AdminHandler : public HttpHandler {
 public:
  explicit AdminHandler(const Metrics* metrics) : metrics_(metrics) {}

  Decision OnHead(const HttpHead& head) override;
  void SetShuttingDown() { shutting_down_ = true; }

 private:
  const Metrics* const metrics_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_ADMIN_HANDLER_H_
