#ifndef LINECHANNEL_SERVER_WEBHOOK_WEBHOOK_PAYLOAD_H_
#define LINECHANNEL_SERVER_WEBHOOK_WEBHOOK_PAYLOAD_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/event.h"

namespace linechannel::server {

// A webhook body, read after its signature was verified.
struct WebhookPayload {
  // The bot user ID the events are for, as sent (LINE's spec requires the field).
  std::string destination;
  // Each event's fields and its raw JSON, in body order; empty for a Verify request.
  std::vector<storage::NewEvent> events;
};

// Reads LINE's webhook body: an object with a string `destination` and an array `events` of
// objects, each with a string `type` and an integer `timestamp`. The other event fields are
// read when present (webhookEventId, mode, deliveryContext.isRedelivery, source) and each
// event's bytes are kept exactly as sent. Unknown event types and fields are
// accepted. INVALID_ARGUMENT, saying what is wrong, for anything else: not JSON, not UTF-8, nested
// too deeply, or not LINE's shape. Thread-safe.
absl::StatusOr<WebhookPayload> ParseWebhookPayload(absl::string_view body);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_WEBHOOK_WEBHOOK_PAYLOAD_H_
