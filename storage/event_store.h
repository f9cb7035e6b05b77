#ifndef LINECHANNEL_STORAGE_EVENT_STORE_H_
#define LINECHANNEL_STORAGE_EVENT_STORE_H_

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/event.h"

namespace linechannel::storage {

// Stores webhook events durably and exactly once, and reads them back in order, along with
// the lifecycle events binding changes store (binding_store.h).
// One of the store's roles (store.h). Implementations are thread-safe; status conventions as
// in binding_store.h.
class EventStore {
 public:
  virtual ~EventStore() = default;

  using AppendDone = std::function<void(absl::StatusOr<AppendResult>)>;

  // Stores all of the batch's events in one durable transaction, skipping any whose
  // webhookEventId the OA (the batch's channel id) already has, under this binding or an
  // earlier binding of the OA (a redelivery can come after an unbind and a rebind), and records
  // the request as the binding's last correctly signed one (so an empty batch, LINE's Verify
  // request, is recorded too). A `batch.bot_status` newer than the binding's last one is
  // applied to the active binding in the same transaction, with a "bot_suspended" or
  // "bot_resumed" lifecycle event when the suspension changes. `done` runs once the transaction is
  // on disk (OK) or has failed (nothing of the batch stored), on a storage thread: it must return
  // quickly. Concurrent batches share commits.
  virtual void AppendEvents(EventBatch batch, AppendDone done) = 0;

  // Up to `query.limit` events after `query.after_cursor`, oldest first. INVALID_ARGUMENT if
  // `query.limit` is not positive.
  virtual absl::StatusOr<std::vector<StoredEvent>> ReadEvents(const EventQuery& query) = 0;

  // Remembers that a request for the binding had a bad signature or a foreign destination.
  // Best effort and asynchronous: a failure is only logged by the store's owner via `done`.
  virtual void RecordTrouble(int64_t binding_row_id, WebhookTrouble trouble, absl::Time at,
                             std::function<void(absl::Status)> done) = 0;

  // What the endpoint has seen for the binding (all unset if nothing yet).
  virtual absl::StatusOr<WebhookActivity> ReadActivity(int64_t binding_row_id) = 0;

  // Deletes up to `limit` of the oldest events received before `cutoff`, in one short
  // transaction. Returns how many were deleted.
  virtual absl::StatusOr<int> DeleteEventsReceivedBefore(absl::Time cutoff, int limit) = 0;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_EVENT_STORE_H_
