#ifndef LINECHANNEL_TOOLS_FAKE_LINE_MANAGEMENT_API_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_MANAGEMENT_API_H_

#include <optional>
#include <string>

#include "tools/fake_line/bot_gate.h"
#include "tools/fake_line/channel_registry.h"
#include "tools/fake_line/clock.h"
#include "tools/fake_line/http_message.h"
#include "tools/fake_line/webhook_sender.h"

namespace linechannel::fake_line {

// LINE's management API as the fake serves it, at LINE's paths:
//   POST /oauth2/v3/token                    issue a stateless token (15 minutes)
//   POST /v2/oauth/verify                    verify a long-lived (or stateless) token
//   GET  /v2/bot/info                        bot info
//   PUT  /v2/bot/channel/webhook/endpoint    set the webhook URL (1,000 per minute)
//   GET  /v2/bot/channel/webhook/endpoint    read the webhook URL and the "Use webhook" switch
//   POST /v2/bot/channel/webhook/test        really POST a signed empty webhook (60 per hour)
//   GET  /v2/bot/richmenu/list               the channel's rich menus (made with the API)
//   GET  /v2/bot/user/all/richmenu           the default rich menu's id; 404 when none
// OAuth errors are {"error", "error_description"}; /v2/bot/* errors are {"message",
// "details"?}. Unknown paths: 404; known path, wrong method: 405.
// Every call first passes the BotGate (delays, attribution and counting, fail_status, token).
// Thread-safe; calls block for injected delays and for the test webhook's POST.
class ManagementApi {
 public:
  // All pointers must outlive the object.
  ManagementApi(ChannelRegistry* registry, const FakeClock* clock, const WebhookSender* sender,
                const BotGate* gate)
      : registry_(registry), clock_(clock), sender_(sender), gate_(gate) {}

  HttpResponse Handle(const HttpRequest& request) const;

 private:
  HttpResponse IssueToken(const HttpRequest& request) const;
  HttpResponse VerifyToken(const HttpRequest& request) const;
  HttpResponse BotCall(const HttpRequest& request, const char* call_key) const;
  HttpResponse BotInfo(const ChannelState& state) const;
  HttpResponse SetEndpoint(const ChannelState& state, const HttpRequest& request) const;
  HttpResponse GetEndpoint(const ChannelState& state) const;
  HttpResponse TestEndpoint(const ChannelState& state, const HttpRequest& request) const;

  ChannelRegistry* const registry_;
  const FakeClock* const clock_;
  const WebhookSender* const sender_;
  const BotGate* const gate_;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_MANAGEMENT_API_H_
