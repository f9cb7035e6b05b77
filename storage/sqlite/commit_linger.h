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
// committer that has had time to spare lately (it waited for a first write in at least
// kIdleShare of its recent time) and finds fewer writes queued than kBatchShare of its recent
// batches waits up to `max_wait` for that many. A committer that is never idle is the bottleneck
// and never waits: its batches are full already, and a wait would only idle it. Under light
// load the recent batches hold one write, and nothing waits.
//
// Used by the committer thread alone: not thread-safe.
class CommitLinger {
 public:
  static constexpr double kBatchShare = 0.75;
  static constexpr double kIdleShare = 0.15;

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
  // Moving averages over about the last ten transactions.
  double recent_batch_ = 1;
  double recent_idle_share_ = 0;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_COMMIT_LINGER_H_
