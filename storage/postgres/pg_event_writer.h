#ifndef LINECHANNEL_STORAGE_POSTGRES_PG_EVENT_WRITER_H_
#define LINECHANNEL_STORAGE_POSTGRES_PG_EVENT_WRITER_H_

#include <deque>
#include <functional>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/event.h"
#include "storage/postgres/pg_connection.h"

namespace linechannel::storage {

// The webhook write path on PostgreSQL: one thread and one connection that store every batch
// waiting at the time in one statement (one transaction, one commit, one round trip), so
// concurrent webhook requests share commits as they do on SQLite. Thread-safe.
class PgEventWriter {
 public:
  using AppendDone = std::function<void(absl::StatusOr<AppendResult>)>;
  using TroubleDone = std::function<void(absl::Status)>;
  // As CommitQueue::Observer: each transaction's duration, writes carried, and outcome.
  using Observer = std::function<void(absl::Duration elapsed, int writes, bool committed)>;

  struct Options {
    PgConnection::Settings connection;
    int max_batches_per_transaction = 256;
    Observer observer;
    // Test hook: runs on the writer thread before each transaction's statement is sent.
    std::function<void()> before_write;
  };

  explicit PgEventWriter(Options options);
  // Answers the writes already queued, then stops.
  ~PgEventWriter();

  PgEventWriter(const PgEventWriter&) = delete;
  PgEventWriter& operator=(const PgEventWriter&) = delete;

  // As EventStore::AppendEvents.
  void Append(EventBatch batch, AppendDone done);
  // As EventStore::RecordTrouble.
  void RecordTrouble(int64_t binding_row_id, WebhookTrouble trouble, absl::Time at,
                     TroubleDone done);

 private:
  struct Pending;

  void Loop();
  void WriteGroup(std::deque<Pending>& group);
  // Stores the group's batches; fills each one's result. The status of the whole statement.
  absl::Status StoreBatches(std::deque<Pending>& group);
  absl::StatusOr<PgConnection*> Connection();

  const Options options_;
  std::unique_ptr<PgConnection> connection_;  // Writer thread only; reopened when broken.
  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread writer_;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_POSTGRES_PG_EVENT_WRITER_H_
