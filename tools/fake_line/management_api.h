#ifndef LINECHANNEL_TOOLS_FAKE_LINE_MANAGEMENT_API_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_MANAGEMENT_API_H_

#include <optional>
#include <string>

#include "absl/synchronization/notification.h"
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
// OAuth errors are {"error", "error_description"}; /v2/bot/* errors are {"message",
// "details"?}. Unknown paths: 404; known path, wrong method: 405.
// Every call first waits out the global delay, is attributed to a channel when the request
// names one (client_id or token), is counted in that channel's `calls`, waits out the channel's
// delay, and answers the channel's (else the global) fail_status if one is set.
// Thread-safe; calls block for injected delays and for the test webhook's POST.
class ManagementApi {
 public:
  // All pointers must outlive the object. `stopping`, once notified, cuts injected delays
  // short so the process can exit promptly.
  ManagementApi(ChannelRegistry* registry, const FakeClock* clock, const WebhookSender* sender,
                const absl::Notification* stopping)
      : registry_(registry), clock_(clock), sender_(sender), stopping_(stopping) {}

  HttpResponse Handle(const HttpRequest& request) const;

 private:
  // Which error shape an endpoint speaks.
  enum class Family { kOAuth, kBot };

  HttpResponse IssueToken(const HttpRequest& request) const;
  HttpResponse VerifyToken(const HttpRequest& request) const;
  HttpResponse BotCall(const HttpRequest& request, const char* call_key) const;
  HttpResponse BotInfo(const ChannelState& state) const;
  HttpResponse SetEndpoint(const ChannelState& state, const HttpRequest& request) const;
  HttpResponse GetEndpoint(const ChannelState& state) const;
  HttpResponse TestEndpoint(const ChannelState& state, const HttpRequest& request) const;

  // Counts the call, waits out the channel's delay and returns the injected failure, if any,
  // for a call attributed to `channel_id` (nullopt: not attributable).
  std::optional<HttpResponse> ApplyFaults(const std::optional<std::string>& channel_id,
                                          const char* call_key, Family family) const;
  void Delay(int64_t millis) const;

  ChannelRegistry* const registry_;
  const FakeClock* const clock_;
  const WebhookSender* const sender_;
  const absl::Notification* const stopping_;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_MANAGEMENT_API_H_
