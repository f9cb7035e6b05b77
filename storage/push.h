#ifndef LINECHANNEL_STORAGE_PUSH_H_
#define LINECHANNEL_STORAGE_PUSH_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace linechannel::storage {

enum class PushState { kPending, kSent, kFailed };

// The state's name as the stores keep it: "pending", "sent" or "failed".
inline absl::string_view PushStateName(PushState state) {
  switch (state) {
    case PushState::kSent:
      return "sent";
    case PushState::kFailed:
      return "failed";
    case PushState::kPending:
      break;
  }
  return "pending";
}

// The state named `name` (PushStateName); any other name reads as pending.
inline PushState PushStateNamed(absl::string_view name) {
  if (name == "sent") return PushState::kSent;
  if (name == "failed") return PushState::kFailed;
  return PushState::kPending;
}

// A push message accepted for a binding: the outbox row that makes it survive a crash, and
// then the record of how it ended.
struct PushRecord {
  // Store-assigned; 0 before insertion.
  int64_t id = 0;
  int64_t binding_row_id = 0;
  // The caller's idempotency key, unique per binding.
  std::string request_id;
  // Sent as X-Line-Retry-Key on every attempt.
  std::string retry_key;
  // A digest of what was asked (recipient, messages, flags), to tell a repeat from a different
  // push that reuses the request id; opaque here.
  std::string request_digest;
  std::string to;
  // The JSON array of message objects. Kept only while the push is pending: emptied when it
  // ends, so customer text is not kept longer than needed.
  std::string messages_json;
  bool notification_disabled = false;
  PushState state = PushState::kPending;
  // Attempts started: counted when a sender takes the push (Admit, LeaseDue), so an attempt a
  // crash cut short counts too.
  int attempts = 0;
  absl::Time accepted_at;
  // Pending: when the next attempt is due.
  absl::Time next_attempt_at;
  // Pending: no other sender takes the push before this time (a sender is working on it).
  absl::Time lease_until;
  // Sent or failed.
  std::optional<absl::Time> finished_at;
  // Sent: LINE's request id and the sent messages as a JSON array of {id, quoteToken};
  // opaque here.
  std::string line_request_id;
  std::string sent_messages_json;
  // Failed: a stable reason and plain words; pending: why the last attempt did not finish.
  std::string failure_reason;
  std::string failure_message;
};

// How an attempt ended, for PushOutbox::RecordAttempt.
struct PushAttempt {
  int64_t push_id = 0;
  // kSent or kFailed end the push; kPending schedules another attempt at `next_attempt_at`.
  PushState outcome = PushState::kPending;
  absl::Time at;
  absl::Time next_attempt_at;
  std::string line_request_id;
  std::string sent_messages_json;
  std::string failure_reason;
  std::string failure_message;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_PUSH_H_
