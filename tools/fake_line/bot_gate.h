#ifndef LINECHANNEL_TOOLS_FAKE_LINE_BOT_GATE_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_BOT_GATE_H_

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "absl/synchronization/notification.h"
#include "tools/fake_line/channel_registry.h"
#include "tools/fake_line/http_message.h"
#include "tools/fake_line/scripted_faults.h"

namespace linechannel::fake_line {

// What every call to LINE's API goes through before its own work, in this order:
//   1. the global delay;
//   2. attribution to a channel (by client_id or token, revoked or not), which counts the call
//      in that channel's `calls`;
//   3. the channel's delay, then the channel's fail_status (else the global one);
//   4. for /v2/bot/* calls, the Bearer token: 401 when missing, unknown, revoked or expired;
//   5. for calls served through Serve(), the next scripted fault of the endpoint.
// Thread-safe; blocks for injected delays and held (timeout) faults.
class BotGate {
 public:
  // Which error shape an endpoint speaks.
  enum class Family { kOAuth, kBot };

  // All pointers must outlive the object. `stopping`, once notified, cuts injected delays and
  // held calls short so the process can exit promptly.
  BotGate(ChannelRegistry* registry, FaultScript* faults, const absl::Notification* stopping)
      : registry_(registry), faults_(faults), stopping_(stopping) {}

  // Steps 1-3 for a call attributed to `channel_id` (nullopt: not attributable). Returns the
  // injected failure, if any.
  std::optional<HttpResponse> ApplyFaults(const std::optional<std::string>& channel_id,
                                          const char* call_key, Family family) const;

  // Steps 1-4 for a /v2/bot/* call: the state of the token's channel, or the answer to give.
  std::variant<ChannelState, HttpResponse> Admit(const HttpRequest& request,
                                                 const char* call_key) const;

  // Steps 1-5, then `handle` unless a scripted fault stops the call first. A fault marked
  // after_accept lets `handle` run (LINE did the work) and then replaces its answer.
  HttpResponse Serve(const HttpRequest& request, const char* call_key,
                     const std::function<HttpResponse(const ChannelState&)>& handle) const;

 private:
  void Delay(int64_t millis) const;
  // The answer a scripted fault gives in place of the real one.
  HttpResponse FaultAnswer(const ScriptedFault& fault) const;

  ChannelRegistry* const registry_;
  FaultScript* const faults_;
  const absl::Notification* const stopping_;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_BOT_GATE_H_
