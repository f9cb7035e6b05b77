#include "storage/sqlite/commit_queue.h"

#include <pthread.h>
#include <sqlite3.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "storage/sqlite/sqlite_errors.h"

namespace linechannel::storage {
namespace {

// Runs a prepared statement that returns no rows.
void ExecPrepared(SQLite::Statement& statement) {
  statement.tryReset();
  statement.exec();
}

}  // namespace

struct CommitQueue::Pending {
  Write write;
  Done settled;
  Done done;
  absl::Status status;
};

CommitQueue::CommitQueue(SQLite::Database* db, int max_writes_per_transaction, Observer observer,
                         CommitLinger linger)
    : db_(db),
      begin_(*db, "BEGIN IMMEDIATE"),
      commit_(*db, "COMMIT"),
      savepoint_(*db, "SAVEPOINT write"),
      release_(*db, "RELEASE write"),
      rollback_to_(*db, "ROLLBACK TO write"),
      max_writes_per_transaction_(max_writes_per_transaction),
      observer_(std::move(observer)),
      linger_(linger),
      answerer_([this] { AnswerLoop(); }),
      committer_([this] { CommitLoop(); }) {}

CommitQueue::~CommitQueue() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  committer_.join();
  {
    absl::MutexLock lock(&answers_mu_);
    committer_stopped_ = true;
  }
  answerer_.join();
}

absl::Status CommitQueue::Run(Write write) {
  absl::Notification committed;
  absl::Status result;
  Submit(std::move(write), nullptr, [&](absl::Status status) {
    result = std::move(status);
    committed.Notify();
  });
  committed.WaitForNotification();
  return result;
}

void CommitQueue::Submit(Write write, Done settled, Done done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(
          new Pending{std::move(write), std::move(settled), std::move(done), absl::OkStatus()});
      return;
    }
  }
  const absl::Status closing = absl::UnavailableError("storage: the store is closing");
  if (settled) settled(closing);
  if (done) done(closing);
}

void CommitQueue::CommitLoop() {
  pthread_setname_np(pthread_self(), kCommitterThreadName);
  while (true) {
    std::deque<Pending*> batch;
    absl::Duration idle;
    {
      absl::MutexLock lock(&mu_);
      // The committer's idle time: its wait for a first write, nothing else.
      const absl::Time waiting = absl::Now();
      mu_.Await(absl::Condition(
          +[](CommitQueue* q)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu_) { return q->stopping_ || !q->queue_.empty(); },
          this));
      if (queue_.empty()) return;  // Stopping, and every write is answered.
      idle = absl::Now() - waiting;
      // Set under mu_: other threads evaluate EnoughToCommit when they unlock it.
      writes_wanted_ = linger_.WritesToWaitFor();
      if (!EnoughToCommit()) {
        mu_.AwaitWithTimeout(absl::Condition(this, &CommitQueue::EnoughToCommit),
                             linger_.max_wait());
      }
      while (!queue_.empty() && static_cast<int>(batch.size()) < max_writes_per_transaction_) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    const absl::Time start = absl::Now();
    const bool committed = CommitBatch(batch);
    const absl::Duration busy = absl::Now() - start;
    linger_.Record(batch.size(), idle, busy);
    if (observer_) observer_(busy, static_cast<int>(batch.size()), committed);
    for (Pending* pending : batch) {
      if (pending->settled) pending->settled(pending->status);
    }
    absl::MutexLock lock(&answers_mu_);
    settled_batches_.push_back(std::move(batch));
  }
}

void CommitQueue::AnswerLoop() {
  pthread_setname_np(pthread_self(), kAnswererThreadName);
  while (true) {
    std::deque<std::deque<Pending*>> batches;
    {
      absl::MutexLock lock(&answers_mu_);
      answers_mu_.Await(absl::Condition(
          +[](CommitQueue* q) ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->answers_mu_) {
            return q->committer_stopped_ || !q->settled_batches_.empty();
          },
          this));
      if (settled_batches_.empty()) return;  // The committer has stopped, and all is answered.
      batches.swap(settled_batches_);
    }
    for (std::deque<Pending*>& batch : batches) {
      for (Pending* pending : batch) {
        if (pending->done) pending->done(std::move(pending->status));
        delete pending;
      }
    }
  }
}

bool CommitQueue::CommitBatch(std::deque<Pending*>& batch) {
  // Fails every write of the batch that has not failed on its own: none of them is durable.
  const auto fail_all = [&batch](const absl::Status& status) {
    for (Pending* pending : batch) {
      if (pending->status.ok()) pending->status = status;
    }
  };
  try {
    ExecPrepared(begin_);
  } catch (const SQLite::Exception& e) {
    fail_all(StatusFromSqlite(e, "starting a transaction"));
    return false;
  }
  for (Pending* pending : batch) {
    try {
      ExecPrepared(savepoint_);
      try {
        pending->status = pending->write(*db_);
      } catch (const SQLite::Exception& e) {
        pending->status = StatusFromSqlite(e, "writing");
      }
      if (sqlite3_get_autocommit(db_->getHandle())) {
        // SQLite rolled the whole transaction back by itself (it does so for some I/O and
        // out-of-space errors): the writes before this one are gone too.
        fail_all(pending->status.ok()
                     ? absl::UnavailableError("storage: the transaction was rolled back")
                     : pending->status);
        return false;
      }
      if (!pending->status.ok()) ExecPrepared(rollback_to_);
      ExecPrepared(release_);
    } catch (const SQLite::Exception& e) {
      fail_all(StatusFromSqlite(e, "writing"));
      if (!sqlite3_get_autocommit(db_->getHandle())) {
        try {
          db_->exec("ROLLBACK");
        } catch (const SQLite::Exception&) {
          // Nothing more to do: the connection reports the failure on its next use.
        }
      }
      return false;
    }
  }
  try {
    ExecPrepared(commit_);
    return true;
  } catch (const SQLite::Exception& e) {
    fail_all(StatusFromSqlite(e, "committing"));
    if (!sqlite3_get_autocommit(db_->getHandle())) {
      try {
        db_->exec("ROLLBACK");
      } catch (const SQLite::Exception&) {
      }
    }
    return false;
  }
}

}  // namespace linechannel::storage
