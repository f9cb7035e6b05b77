#ifndef LINECHANNEL_STORAGE_PUSH_OUTBOX_H_
#define LINECHANNEL_STORAGE_PUSH_OUTBOX_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/push.h"

namespace linechannel::storage {

// The result of PushOutbox::Admit.
struct PushAdmission {
  // The stored push: the new one, or the one the binding already had with that request id.
  PushRecord push;
  // True when `push` was inserted by this call.
  bool created = false;
};

// The outbox of push messages: a push is stored durably before LINE is called, so one that was
// accepted is sent even if the process dies meanwhile, and is sent under one retry key however
// often it is attempted. Every attempt is made under a lease, so two processes sharing the
// store do not attempt the same push at once. One of the store's roles (store.h); status
// conventions as in binding_store.h. Thread-safe.
class PushOutbox {
 public:
  virtual ~PushOutbox() = default;

  // Stores `push` (state pending, attempts 1, its id ignored) leased until `push.lease_until`
  // to the caller, who attempts it at once, unless the binding already has a push with
  // `push.request_id`: then returns that one unchanged (created false), whatever its digest.
  // Concurrent admissions of one (binding, request id) create exactly one push.
  virtual absl::StatusOr<PushAdmission> Admit(const PushRecord& push) = 0;

  // The binding's push with `request_id`. NOT_FOUND if none (never, or deleted).
  virtual absl::StatusOr<PushRecord> Find(int64_t binding_row_id,
                                          absl::string_view request_id) = 0;

  // Leases up to `limit` pending pushes that are due (next_attempt_at <= now) and not leased
  // (lease_until <= now) until `lease_until`, oldest due first, and returns them with their
  // messages, each with `attempts` incremented: the caller attempts it. Each due push is handed
  // to one caller per lease.
  virtual absl::StatusOr<std::vector<PushRecord>> LeaseDue(absl::Time now, absl::Time lease_until,
                                                           int limit) = 0;

  // Records how an attempt of a pending push ended (attempts were counted when it was leased):
  // ends the push (sent or
  // failed: finished_at = attempt.at, messages emptied) or schedules the next attempt (lease
  // released). A push that already ended is left as it is (another sender finished it first);
  // returns the push as now stored. NOT_FOUND if there is no such push.
  virtual absl::StatusOr<PushRecord> RecordAttempt(const PushAttempt& attempt) = 0;

  // Deletes up to `limit` of the pushes that ended before `cutoff`, in one short transaction.
  // Returns how many were deleted. Pending pushes are never deleted.
  virtual absl::StatusOr<int> DeleteEndedBefore(absl::Time cutoff, int limit) = 0;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_PUSH_OUTBOX_H_
