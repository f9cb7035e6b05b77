#ifndef LINECHANNEL_TOOLS_FAKE_LINE_CONTROL_API_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_CONTROL_API_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <simdjson.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/fake_line/channel_registry.h"
#include "tools/fake_line/clock.h"
#include "tools/fake_line/event_factory.h"
#include "tools/fake_line/http_message.h"
#include "tools/fake_line/messaging_control.h"
#include "tools/fake_line/messaging_stores.h"
#include "tools/fake_line/webhook_body.h"
#include "tools/fake_line/webhook_sender.h"

namespace linechannel::fake_line {

// Fields that every webhook-sending control call accepts, each replacing what the channel
// would use: where the POST goes, the secret it is signed with, the signature itself (empty:
// no header) and the body's destination.
struct WebhookOverrides {
  std::optional<std::string> endpoint;
  std::optional<std::string> secret;
  std::optional<std::string> signature;
  std::optional<std::string> destination;
};

// The JSON control API that tests and benchmarks use to drive the fake, under /fake/ (see
// README.md for every path and field); the calls about outbound traffic are MessagingControl's.
// Never subject to injected faults. Bad requests get 4xx
// with {"message": ...}. Thread-safe; the webhook calls block until their POST is done.
class ControlApi {
 public:
  // All pointers must outlive the object.
  ControlApi(ChannelRegistry* registry, FakeClock* clock, const WebhookSender* sender,
             MessagingStores stores)
      : registry_(registry),
        clock_(clock),
        sender_(sender),
        stores_(stores),
        messaging_control_(registry, stores, clock) {}

  // Answers a request whose path starts with "/fake/".
  HttpResponse Handle(const HttpRequest& request) const;

 private:
  // A webhook-sending call: the channel as it is now and the overrides its body gave.
  struct WebhookCall {
    ChannelState state;
    WebhookOverrides overrides;
  };
  // Reads the fields of a control call's JSON body that are not overrides, one at a time; an
  // unknown one is refused with INVALID_ARGUMENT.
  using FieldReader = std::function<absl::Status(absl::string_view, simdjson::dom::element)>;

  // A webhook POST about to be made for a channel.
  struct Delivery {
    std::string endpoint;
    std::string body;
    std::optional<std::string> signature;  // nullopt: no x-line-signature header.
    std::vector<RawEvent> events;          // Reported, and remembered once sent.
    // One per event (or none, for redeliveries): remembered before sending, so that the
    // endpoint can use the reply tokens while it answers.
    std::vector<EventFacts> facts;
    bool remember = true;                // false for redeliveries.
    bool respect_webhook_active = true;  // false for the console's Verify button.
  };

  HttpResponse AddChannels(const HttpRequest& request) const;
  HttpResponse ListChannels() const;
  HttpResponse GetChannel(const std::string& channel_id) const;
  HttpResponse PatchChannel(const std::string& channel_id, const HttpRequest& request) const;
  HttpResponse SendWebhook(const std::string& channel_id, const HttpRequest& request) const;
  HttpResponse Redeliver(const std::string& channel_id, const HttpRequest& request) const;
  HttpResponse Verify(const std::string& channel_id, const HttpRequest& request) const;
  HttpResponse GetFaults() const;
  HttpResponse PatchFaults(const HttpRequest& request) const;
  HttpResponse Clock() const;
  HttpResponse AdvanceClock(const HttpRequest& request) const;
  HttpResponse FreezeClock(const HttpRequest& request) const;

  // The channel (NOT_FOUND if unknown) and the body of a webhook-sending call, its override
  // fields read and every other field passed to `other`.
  absl::StatusOr<WebhookCall> ReadWebhookCall(const std::string& channel_id,
                                              const HttpRequest& request,
                                              const FieldReader& other) const;

  // Sends `delivery` for `state`'s channel and answers with the outcome.
  HttpResponse Deliver(const ChannelState& state, Delivery delivery) const;

  ChannelRegistry* const registry_;
  FakeClock* const clock_;
  const WebhookSender* const sender_;
  const MessagingStores stores_;
  const MessagingControl messaging_control_;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_CONTROL_API_H_
