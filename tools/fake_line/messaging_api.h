#ifndef LINECHANNEL_TOOLS_FAKE_LINE_MESSAGING_API_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_MESSAGING_API_H_

#include <optional>
#include <variant>

#include <simdjson.h>

#include "tools/fake_line/bot_gate.h"
#include "tools/fake_line/channel.h"
#include "tools/fake_line/http_message.h"
#include "tools/fake_line/messaging_stores.h"

namespace linechannel::fake_line {

// LINE's sending calls as the fake serves them, at LINE's paths (call keys in brackets):
//   POST /v2/bot/message/reply               [reply] single-use reply token from a webhook
//   POST /v2/bot/message/push                [push] X-Line-Retry-Key; counts against the quota
//   GET  /v2/bot/message/quota               [quota] {type, value?}
//   GET  /v2/bot/message/quota/consumption   [quota_consumption] {totalUsage}
//   POST /v2/bot/chat/markAsRead             [mark_as_read] {markAsReadToken}
//   POST /v2/bot/message/markAsRead          [mark_as_read] {chat: {userId}} (partner API)
//   POST /v2/bot/chat/loading/start          [loading] {chatId, loadingSeconds?}
// Each passes the BotGate (scripted faults included) and is scoped to the token's channel.
// reply, push, markAsRead and loading also take one call from the channel's per-second rate
// window (429 beyond it), refuse an X-Line-Retry-Key except on push (400), and are recorded
// in the Outbox once accepted. Errors are LINE's {"message", "details"?}. Thread-safe.
class MessagingApi {
 public:
  // Pointers must outlive the object.
  MessagingApi(const BotGate* gate, MessagingStores stores) : gate_(gate), stores_(stores) {}

  // The answer, or nullopt if the path is none of the above.
  std::optional<HttpResponse> Handle(const HttpRequest& request) const;

 private:
  HttpResponse Reply(const ChannelState& state, const HttpRequest& request) const;
  HttpResponse Push(const ChannelState& state, const HttpRequest& request) const;
  HttpResponse Quota(const ChannelState& state) const;
  HttpResponse QuotaConsumption(const ChannelState& state) const;
  HttpResponse MarkAsReadByToken(const ChannelState& state, const HttpRequest& request) const;
  HttpResponse MarkAsRead(const ChannelState& state, const HttpRequest& request) const;
  HttpResponse Loading(const ChannelState& state, const HttpRequest& request) const;

  // The checks every sending call makes first: the rate window, then "no retry key" unless
  // `retry_key_allowed` (and then a well-formed one). The refusal to answer with, or nullopt.
  std::optional<HttpResponse> Precheck(const ChannelState& state, const HttpRequest& request,
                                       bool retry_key_allowed) const;
  // Precheck, then the JSON body (parsed by `parser`, which must outlive it), or the refusal.
  std::variant<simdjson::dom::object, HttpResponse> Admit(const ChannelState& state,
                                                          const HttpRequest& request,
                                                          bool retry_key_allowed,
                                                          simdjson::dom::parser& parser) const;
  // True if a push to `to` would reach someone: a user the channel knows who has not blocked
  // it, or a group or room it is in.
  bool CanReach(const ChannelState& state, const std::string& to) const;

  const BotGate* const gate_;
  const MessagingStores stores_;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_MESSAGING_API_H_
