#ifndef LINECHANNEL_SERVER_WEBHOOK_WEBHOOK_HANDLER_H_
#define LINECHANNEL_SERVER_WEBHOOK_WEBHOOK_HANDLER_H_

#include "server/http/http_server.h"
#include "server/base/metrics.h"
#include "server/webhook/webhook_receiver.h"

namespace linechannel::server {

// The webhook port's routes: `POST /line/webhook/<key>` to the WebhookReceiver (other methods
// 405), `GET /healthz` (a trivial answer that touches nothing: for load balancers, and the
// baseline of the ingest benchmark), anything else 404. Thread-safe.
class WebhookHandler : public HttpHandler {
 public:
  WebhookHandler(WebhookReceiver* receiver, Metrics* metrics)
      : receiver_(receiver), metrics_(metrics) {}

  Decision OnHead(const HttpHead& head) override;

 private:
  WebhookReceiver* const receiver_;
  Metrics* const metrics_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_WEBHOOK_WEBHOOK_HANDLER_H_
