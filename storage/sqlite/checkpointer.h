#ifndef LINECHANNEL_STORAGE_SQLITE_CHECKPOINTER_H_
#define LINECHANNEL_STORAGE_SQLITE_CHECKPOINTER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "SQLiteCpp/Database.h"
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

struct sqlite3;

namespace linechannel::storage {

// Copies the write-ahead log back into the database file on a connection and thread of its
// own. SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold, on the
// commit thread, so every write queued behind that commit waits for the copy and its fsync
// (under webhook load about a fifth of the commit thread's time went there). A passive
// checkpoint here never blocks the writer: it copies what is committed while commits go on.
class Checkpointer {
 public:
  // SQLite's own threshold for its automatic checkpoint, in pages of the log.
  static constexpr int kSqliteDefaultPages = 1000;

  // Takes over checkpointing from `writer` (its automatic checkpoint is turned off) and
  // checkpoints on `connection` whenever a commit leaves at least `wal_pages` pages in the log.
  // Both connections must outlive the checkpointer.
  Checkpointer(SQLite::Database* writer, std::unique_ptr<SQLite::Database> connection,
               int wal_pages);
  // Stops the thread; the writer gets SQLite's automatic checkpoint back.
  ~Checkpointer();

  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Checkpoints run so far (whether or not they could copy everything).
  int64_t checkpoints() const;

 private:
  // sqlite3_wal_hook's callback, on the commit thread after every commit.
  static int AfterCommit(void* self, sqlite3* db, const char* database, int pages);
  void Loop();

  SQLite::Database* const writer_;
  const std::unique_ptr<SQLite::Database> connection_;
  const int wal_pages_;
  mutable absl::Mutex mu_;
  bool wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int64_t> checkpoints_{0};
  std::thread thread_;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_CHECKPOINTER_H_
