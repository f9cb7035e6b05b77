#ifndef LINECHANNEL_STORAGE_EVENT_H_
#define LINECHANNEL_STORAGE_EVENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
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

// LINE's own news of the bot's suspension (botSuspended) or return (botResumed), carried by a
// webhook batch: the store applies it to the binding in the batch's transaction.
struct BotStatusChange {
  bool suspended = false;
  // LINE's timestamp of the event: a change older than the binding's last one is ignored, so
  // a late redelivery cannot undo a newer change.
  absl::Time at;
};

// The events of one signed webhook request for one binding.
struct EventBatch {
  int64_t binding_row_id = 0;
  std::string team_id;
  std::string channel_id;
  absl::Time received_at;
  std::vector<NewEvent> events;
  // The newest botSuspended or botResumed among `events`, if any.
  std::optional<BotStatusChange> bot_status;
};

// What a lifecycle event reports: a change of a binding made by this service (not an event of
// LINE's webhook), stored with the change in one transaction.
enum class LifecycleKind {
  kBound,
  kUnbound,
  kCredentialsUpdated,
  // What the checks with LINE found (SetAttention) changed.
  kStateChanged,
  // LINE suspended the bot, or ended its suspension (botSuspended / botResumed).
  kBotSuspended,
  kBotResumed,
};

// The name stored for `kind`.
inline const char* LifecycleKindName(LifecycleKind kind) {
  switch (kind) {
    case LifecycleKind::kBound:
      return "bound";
    case LifecycleKind::kUnbound:
      return "unbound";
    case LifecycleKind::kCredentialsUpdated:
      return "credentials_updated";
    case LifecycleKind::kStateChanged:
      return "state_changed";
    case LifecycleKind::kBotSuspended:
      return "bot_suspended";
    case LifecycleKind::kBotResumed:
      return "bot_resumed";
  }
  return "";
}

// The kind stored as `name` (LifecycleKindName); unset for any other name.
inline std::optional<LifecycleKind> LifecycleKindNamed(absl::string_view name) {
  for (LifecycleKind kind :
       {LifecycleKind::kBound, LifecycleKind::kUnbound, LifecycleKind::kCredentialsUpdated,
        LifecycleKind::kStateChanged, LifecycleKind::kBotSuspended, LifecycleKind::kBotResumed}) {
    if (name == LifecycleKindName(kind)) return kind;
  }
  return std::nullopt;
}

// A lifecycle event as stored.
struct Lifecycle {
  LifecycleKind kind = LifecycleKind::kBound;
  // Who made the change (Change::actor); empty for changes found by checks or told by LINE.
  std::string actor;
  // Change::detail of bind, unbind and credential updates ("secret,token"); never secrets.
  std::string detail;
  // The binding's findings after the change: what the checks with LINE found wrong, and
  // whether LINE has the bot suspended. Set for every kind, so a reader needs no other read.
  std::vector<std::string> attention_reasons;
  bool bot_suspended = false;
};

// What storing a batch did.
struct AppendResult {
  int stored = 0;
  // Events whose webhookEventId the OA (channel id) already had, under this binding or an
  // earlier one.
  int duplicates = 0;
  // Lifecycle events stored with the batch (its bot status change).
  int lifecycle_stored = 0;
  // The cursor of the newest event in the store after the commit.
  int64_t last_cursor = 0;
};

// A lifecycle event from its stored columns (`kind` a LifecycleKindName, `reasons` joined by
// newlines). A kind this build does not know reads as kStateChanged.
inline Lifecycle ReadLifecycle(absl::string_view kind, std::string actor, std::string detail,
                               absl::string_view reasons, bool bot_suspended) {
  Lifecycle l;
  l.kind = LifecycleKindNamed(kind).value_or(LifecycleKind::kStateChanged);
  l.actor = std::move(actor);
  l.detail = std::move(detail);
  if (!reasons.empty()) l.attention_reasons = absl::StrSplit(reasons, '\n');
  l.bot_suspended = bot_suspended;
  return l;
}

// A stored event, as readers get it.
struct StoredEvent {
  // The store's sequence number: increasing in commit order, never reused.
  int64_t cursor = 0;
  std::string binding_id;
  std::string team_id;
  std::string channel_id;
  // A webhook event of LINE's (unset `lifecycle`), or the channel's own lifecycle event, which
  // has only `event.type` (LifecycleKindName) and no webhookEventId, source or raw JSON.
  NewEvent event;
  std::optional<Lifecycle> lifecycle;
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
