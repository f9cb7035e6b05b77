#ifndef LINECHANNEL_STORAGE_SQLITE_COMMIT_QUEUE_H_
#define LINECHANNEL_STORAGE_SQLITE_COMMIT_QUEUE_H_

#include <deque>
#include <functional>
#include <thread>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/sqlite/commit_linger.h"

namespace linechannel::storage {

// Runs every write of a store on one connection, from one thread, many writes per transaction
// (group commit): while one transaction is being made durable, the writes that arrive queue up
// and then share the next transaction and its fsync. Whoever queued a write hears how it ended
// from a second thread, the answerer, so that answering callers (and freeing what they handed
// the write) overlaps the next transaction instead of delaying it. When few writes are queued,
// the committer may wait a little for more (CommitLinger). Thread-safe.
class CommitQueue {
 public:
  // A write. It runs inside its own savepoint: when it returns an error or throws
  // SQLite::Exception, its own changes are rolled back and the other writes of the transaction
  // still commit. It must only touch `db`, and quickly: every queued write waits for it.
  using Write = std::function<absl::Status(SQLite::Database& db)>;

  // The threads' names, as `top -H`, perf and /proc/<pid>/task/*/comm show them: the committer
  // is the one thread every write goes through, so its share of a CPU is worth telling apart.
  static constexpr char kCommitterThreadName[] = "sqlite-commit";
  static constexpr char kAnswererThreadName[] = "sqlite-answer";

  // Told about every transaction: how long it took from BEGIN to COMMIT, how many writes it
  // carried, and whether it committed. Runs on the committer thread; must be quick.
  using Observer = std::function<void(absl::Duration elapsed, int writes, bool committed)>;

  // `db` must outlive the queue. At most `max_writes_per_transaction` writes share a commit;
  // `linger` says when a commit waits for more writes.
  CommitQueue(SQLite::Database* db, int max_writes_per_transaction, Observer observer = nullptr,
              CommitLinger linger = CommitLinger());
  // Finishes the writes already queued, then stops.
  ~CommitQueue();

  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Told how a write ended: what Run would have returned. It must return quickly and must not
  // queue writes and wait for them (queueing without waiting is fine).
  using Done = std::function<void(absl::Status)>;

  // Queues `write` and waits until its transaction is durable. Returns the write's own error,
  // or the error that kept its transaction from committing (the write is then undone), or OK
  // once it is on disk.
  absl::Status Run(Write write);

  // Queues `write` and returns at once. Once its transaction has ended, `settled` (if any) runs
  // on the committer thread, before the next transaction begins, for bookkeeping that must
  // follow the transactions in order; then `done` (if any) runs on the answerer thread. Both
  // get what Run would have returned; the dones run in the order of the writes. Once the queue
  // is stopping, a write is refused and both run at once on the caller's thread.
  void Submit(Write write, Done settled, Done done);

 private:
  struct Pending;

  void CommitLoop();
  // False if the transaction did not commit.
  bool CommitBatch(std::deque<Pending*>& batch);
  // Runs the dones of committed batches, in order, until the committer has stopped.
  void AnswerLoop();
  // What a lingering committer waits for: as many writes as it wants, or the queue stopping.
  bool EnoughToCommit() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || queue_.size() >= writes_wanted_;
  }

  SQLite::Database* const db_;
  // The transaction and each write's savepoint, prepared once: parsed anew, they cost every
  // write three prepares and every transaction two (BEGIN and COMMIT were 5% of the commit
  // thread's time).
  SQLite::Statement begin_;
  SQLite::Statement commit_;
  SQLite::Statement savepoint_;
  SQLite::Statement release_;
  SQLite::Statement rollback_to_;
  const int max_writes_per_transaction_;
  const Observer observer_;
  // The committer thread's own.
  CommitLinger linger_;
  absl::Mutex mu_;
  std::deque<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // How many queued writes the committer waits for (CommitLinger::WritesToWaitFor).
  size_t writes_wanted_ ABSL_GUARDED_BY(mu_) = 0;
  // Batches whose transactions have ended, for the answerer.
  absl::Mutex answers_mu_;
  std::deque<std::deque<Pending*>> settled_batches_ ABSL_GUARDED_BY(answers_mu_);
  bool committer_stopped_ ABSL_GUARDED_BY(answers_mu_) = false;
  // Started before the committer, which hands it every batch, and joined after it.
  std::thread answerer_;
  std::thread committer_;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_COMMIT_QUEUE_H_
