#ifndef LINECHANNEL_STORAGE_SQLITE_COMMIT_LINGER_H_
#define LINECHANNEL_STORAGE_SQLITE_COMMIT_LINGER_H_

#include <cstddef>

#include "absl/time/time.h"

namespace linechannel::storage {

// When a group commit (CommitQueue) holds a commit back for more writes.
//
// Between bursts a plain group commit falls to a few writes per commit: once a large batch is
// answered, the first writes to come back are committed at once, and the rest queue behind that
// fsync, which costs as much as a full one and puts the same pages into the log again. A
// committer that has had time to spare lately and finds fewer writes queued than kBatchShare of
// its recent batches (rounded) waits up to `max_wait` for that many. "Time to spare": over its
// recent transactions, it waited for a first write for at least kIdleShare of the time from one
// transaction's end to the next one's end, on average per transaction. A committer that is
// never idle is the bottleneck and never waits: its batches are full already, and a wait would
// only idle it. Lingering counts as neither waiting nor working: a committer that lingers keeps
// lingering only while it still also waits for writes, so a linger that fills the queue can turn
// itself off, until batches shrink and idle time comes back.
//
// It helps where callers wait for their answer before they send again (LINE waits for each
// webhook's 200 on a connection): a fuller commit answers more of them at once, and their next
// writes come back together. The averages move per transaction, not per second: after a burst
// of large batches, the next few lone writes (about as many transactions as it takes the
// averages to fall, some tens) each wait up to `max_wait`. Under steady light load the recent
// batches hold one write, and nothing waits.
//
// Used by the committer thread alone: not thread-safe.
class CommitLinger {
 public:
  static constexpr double kBatchShare = 0.75;
  static constexpr double kIdleShare = 0.15;
  // The moving averages' weight of the newest transaction: about the last ten count.
  static constexpr double kWeight = 0.1;

  // Zero `max_wait` never holds a commit back.
  explicit CommitLinger(absl::Duration max_wait = absl::ZeroDuration()) : max_wait_(max_wait) {}

  absl::Duration max_wait() const { return max_wait_; }

  // How many queued writes to wait for before committing (0: commit what is queued).
  size_t WritesToWaitFor() const;

  // After each transaction: how many writes it carried, how long the committer had waited for
  // the first of them (not counting a linger), and how long the transaction took.
  void Record(size_t writes, absl::Duration idle, absl::Duration busy);

 private:
  absl::Duration max_wait_;
  double recent_batch_ = 1;
  double recent_idle_share_ = 0;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_COMMIT_LINGER_H_
