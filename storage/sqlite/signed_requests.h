#ifndef LINECHANNEL_STORAGE_SQLITE_SIGNED_REQUESTS_H_
#define LINECHANNEL_STORAGE_SQLITE_SIGNED_REQUESTS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace linechannel::storage {

// Each binding's newest signed webhook request (webhook_activity.last_signed_at_us), kept here
// exactly and written to the file in batches: one upsert per request was a scattered page of
// webhook_activity in almost every commit. A request with events writes, once a second (by
// the requests' receive times), the newest committed request of every binding that has one
// not yet written; LINE's empty test request is written at once (VerifyWebhook reads it back
// from any replica); a store that closes writes what is left. After a crash the file may be up
// to a second early, and reads of this process answer from here. Thread-safe.
class SignedRequests {
 public:
  struct Write {
    int64_t binding_row_id;
    int64_t at_us;
  };

  explicit SignedRequests(int64_t batch_interval_us) : batch_interval_us_(batch_interval_us) {}

  // Inside the write that stores a request of `binding_row_id` received at `at_us` (`empty`:
  // without events), on the commit thread: what the write must upsert, maybe nothing.
  std::vector<Write> ToWrite(int64_t binding_row_id, int64_t at_us, bool empty);
  // After that write's transaction: it committed, with what ToWrite returned...
  void Committed(int64_t binding_row_id, int64_t at_us, const std::vector<Write>& written);
  // ...or it did not: what it was to write waits for the next batch.
  void NotCommitted(const std::vector<Write>& written);

  // The newest request of the binding this process committed, if any.
  std::optional<int64_t> Newest(int64_t binding_row_id) const;
  // Everything committed and not yet written (the store is closing).
  std::vector<Write> TakePending();

 private:
  struct Binding {
    int64_t committed_us = 0;
    int64_t written_us = 0;
    bool pending = false;
  };

  std::vector<Write> TakePendingLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PendIfNewer(int64_t binding_row_id, Binding& binding) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int64_t batch_interval_us_;
  // The receive time of the request whose write took the last batch (commit thread only).
  int64_t batch_taken_at_us_ = 0;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<int64_t, Binding> bindings_ ABSL_GUARDED_BY(mu_);
  // The bindings whose newest committed request is not written yet.
  std::vector<int64_t> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_SIGNED_REQUESTS_H_
