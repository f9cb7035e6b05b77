#ifndef LINECHANNEL_TOOLS_FAKE_LINE_WEBHOOK_BODY_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_WEBHOOK_BODY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linechannel::fake_line {

// One webhook event as exact JSON text, plus its webhookEventId (empty if it has none, as in
// older payloads).
struct RawEvent {
  std::string json;
  std::string webhook_event_id;
};

// `{"destination":<destination>,"events":[<event>,...]}` with every event's text copied byte
// for byte (never re-serialised: the signature covers these exact bytes).
std::string BuildWebhookBody(absl::string_view destination, const std::vector<RawEvent>& events);

// The exact text of each element of the JSON array `array_json`. INVALID_ARGUMENT unless it is
// a valid JSON array whose elements are all objects.
absl::StatusOr<std::vector<RawEvent>> SplitEvents(absl::string_view array_json);

// The exact text of member `key` of the JSON object `object_json` (an array stays an array,
// a string keeps its quotes). NOT_FOUND if there is no such member; INVALID_ARGUMENT if
// `object_json` is not a valid JSON object.
absl::StatusOr<std::string> RawMember(absl::string_view object_json, absl::string_view key);

// The event's text with its `"deliveryContext":{"isRedelivery":false}` switched to true, by
// replacing that one token so every other byte stays as it was. An event already marked true is
// returned unchanged. FAILED_PRECONDITION if it has no deliveryContext.isRedelivery.
absl::StatusOr<std::string> MarkRedelivery(absl::string_view event_json);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_WEBHOOK_BODY_H_
