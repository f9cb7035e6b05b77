#ifndef LINECHANNEL_STORAGE_EVENT_H_
#define LINECHANNEL_STORAGE_EVENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "storage/binding.h"

namespace linechannel::storage {

// One webhook event as received, ready to store.
struct NewEvent {
  // LINE's ULID; unset for older payloads that have none (those are never deduplicated).
  std::optional<std::string> webhook_event_id;
  std::string type;
  int64_t timestamp_ms = 0;
  // "active", "standby", or empty when the payload had no mode.
  std::string mode;
  bool redelivery = false;
  // The event's source: type ("user", "group", "room", or empty) and ids (empty if absent).
  std::string source_type;
  std::string source_user_id;
  std::string source_group_id;
  std::string source_room_id;
  // The event object's bytes exactly as LINE sent them.
  std::string raw_json;
};

// The events of one signed webhook request for one binding.
struct EventBatch {
  int64_t binding_row_id = 0;
  std::string team_id;
  std::string channel_id;
  absl::Time received_at;
  std::vector<NewEvent> events;
};

// What storing a batch did.
struct AppendResult {
  int stored = 0;
  // Events whose webhookEventId the OA (channel id) already had, under this binding or an
  // earlier one.
  int duplicates = 0;
  // The cursor of the newest event in the store after the commit.
  int64_t last_cursor = 0;
};

// A stored event, as readers get it.
struct StoredEvent {
  // The store's sequence number: increasing in commit order, never reused.
  int64_t cursor = 0;
  std::string binding_id;
  std::string team_id;
  std::string channel_id;
  NewEvent event;
  absl::Time received_at;
};

// Which events to read: a team's, optionally of one channel, after a cursor.
struct EventQuery {
  std::string team_id;
  // Empty for all of the team's channels.
  std::string channel_id;
  int64_t after_cursor = 0;
  int limit = 100;
  // How long to wait for events that are committed but not readable yet because an older
  // transaction is still running (PostgreSQL; SQLite's are readable at once), so that a
  // caller who was just told an event is stored can read it. Zero answers at once, for
  // readers that are woken when such events become readable (StreamEvents).
  absl::Duration settle = absl::Seconds(1);
};

// The webhook troubles worth remembering.
enum class WebhookTrouble { kBadSignature, kDestinationMismatch };

// A webhook endpoint records each trouble of a binding at most once in this interval (per
// process), so that a flood of bad requests cannot become a flood of writes. Readers that look
// for a trouble in a time window allow for it.
inline constexpr absl::Duration kTroubleRecordInterval = absl::Seconds(10);

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_EVENT_H_
