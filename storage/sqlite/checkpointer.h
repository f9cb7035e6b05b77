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
//
// SQLite starts the log over from its beginning only when a write begins with every frame
// copied, and under steady load a commit always lands while a passive checkpoint copies. So the
// thread's rounds repeat while commits keep adding frames, each shorter than the last, until
// at most kMaxRestPages are left; the commit thread copies those itself (inside a commit's hook,
// as SQLite's automatic checkpoint does: a few milliseconds, more only past the kMaxLogRounds
// bound) and the next write starts the log over. Without that the log grew by every commit for
// as long as the load lasted (1.1 GB in a minute of webhooks), and each commit's fsync also had
// to make the file's new size durable: appending to a file and syncing took ~1.5x as long as
// overwriting it here.
//
// A round that copies new frames syncs the database file itself. SQLite syncs it only after a
// copy that reached the log's end, which under load is the commit thread's copy of the rest:
// that sync then wrote every earlier round's pages while the queued writes waited.
class Checkpointer {
 public:
  // The thread's name, beside CommitQueue's two.
  static constexpr char kThreadName[] = "sqlite-checkpt";
  // SQLite's own threshold for its automatic checkpoint, in pages of the log.
  static constexpr int kSqliteDefaultPages = 1000;
  // The most frames the commit thread copies (2 MiB at 4 KiB pages); with more left, the
  // checkpointer's thread takes another round first.
  static constexpr int kMaxRestPages = 512;
  // Once the log holds this many times the threshold, the commit thread copies the rest
  // however much it is.
  static constexpr int kMaxLogRounds = 4;

  // Takes over checkpointing from `writer` (its automatic checkpoint is turned off) and
  // checkpoints on `connection` whenever a commit leaves at least `wal_pages` pages in the log.
  // Both connections must outlive the checkpointer.
  Checkpointer(SQLite::Database* writer, std::unique_ptr<SQLite::Database> connection,
               int wal_pages);
  // Stops the thread; the writer gets SQLite's automatic checkpoint back.
  ~Checkpointer();

  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Rounds run so far on the checkpointer's thread (whether or not they could copy
  // everything).
  int64_t checkpoints() const;

 private:
  // sqlite3_wal_hook's callback, on the commit thread after every commit.
  static int AfterCommit(void* self, sqlite3* db, const char* database, int pages);
  void Loop();
  // Makes what the rounds copied into the database file durable (an SQLite result code).
  int SyncDatabaseFile();

  SQLite::Database* const writer_;
  const std::unique_ptr<SQLite::Database> connection_;
  const int wal_pages_;
  mutable absl::Mutex mu_;
  // A round is asked for (by a commit over the threshold, or finding more than kMaxRestPages
  // left), running, or done and waiting for the next commit to copy the rest. The commit
  // thread checkpoints only after moving kDone to kIdle, while the thread waits for kWanted,
  // so the two checkpoints never meet.
  enum class Phase { kIdle, kWanted, kRunning, kDone };
  Phase phase_ ABSL_GUARDED_BY(mu_) = Phase::kIdle;
  // Frames of the log the last round had copied when it ended.
  int copied_frames_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int64_t> checkpoints_{0};
  std::thread thread_;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_CHECKPOINTER_H_
