#include "storage/sqlite/checkpointer.h"

#include <pthread.h>
#include <sqlite3.h>

#include "absl/time/time.h"

namespace linechannel::storage {
namespace {

// When the log cannot be emptied (a reader still uses old pages), commits keep asking; this
// keeps the checkpointer from copying in a tight loop meanwhile.
constexpr absl::Duration kMinPause = absl::Milliseconds(20);

}  // namespace

Checkpointer::Checkpointer(SQLite::Database* writer, std::unique_ptr<SQLite::Database> connection,
                           int wal_pages)
    : writer_(writer), connection_(std::move(connection)), wal_pages_(wal_pages) {
  // Replaces the hook that sqlite3_wal_autocheckpoint installs, and with it the automatic
  // checkpoint.
  sqlite3_wal_hook(writer_->getHandle(), &Checkpointer::AfterCommit, this);
  thread_ = std::thread([this] { Loop(); });
}

Checkpointer::~Checkpointer() {
  sqlite3_wal_autocheckpoint(writer_->getHandle(), kSqliteDefaultPages);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

int64_t Checkpointer::checkpoints() const { return checkpoints_.load(); }

int Checkpointer::AfterCommit(void* self, sqlite3* db, const char* /*database*/, int pages) {
  auto* checkpointer = static_cast<Checkpointer*>(self);
  {
    absl::MutexLock lock(&checkpointer->mu_);
    switch (checkpointer->phase_) {
      case Phase::kIdle:
        if (pages >= checkpointer->wal_pages_) checkpointer->phase_ = Phase::kWanted;
        return SQLITE_OK;
      case Phase::kWanted:
      case Phase::kRunning:
        return SQLITE_OK;
      case Phase::kDone:
        // Past kMaxLogRounds thresholds the thread's rounds are not catching up with the
        // commits, and the commit thread copies whatever is left: writes wait (a commit slows
        // down for once) rather than the log growing without bound.
        if (pages - checkpointer->copied_frames_ > kMaxRestPages &&
            pages < int64_t{kMaxLogRounds} * checkpointer->wal_pages_) {
          checkpointer->phase_ = Phase::kWanted;
          return SQLITE_OK;
        }
        checkpointer->phase_ = Phase::kIdle;
        break;
    }
  }
  // The writer has no transaction open here, so nothing can commit while this copies: once it
  // returns every frame is in the database file, and the next write starts the log over (unless
  // a reader still reads old frames; then the next round tries again). An error leaves the log
  // as it was, all of it durable.
  sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  return SQLITE_OK;
}

int Checkpointer::SyncDatabaseFile() {
  sqlite3_file* file = nullptr;
  const int found =
      sqlite3_file_control(connection_->getHandle(), "main", SQLITE_FCNTL_FILE_POINTER, &file);
  if (found != SQLITE_OK || file == nullptr || file->pMethods == nullptr) return found;
  return file->pMethods->xSync(file, SQLITE_SYNC_NORMAL);
}

void Checkpointer::Loop() {
  pthread_setname_np(pthread_self(), kThreadName);
  while (true) {
    int copied_before = 0;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Checkpointer* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
            return c->phase_ == Phase::kWanted || c->stopping_;
          },
          this));
      if (stopping_) return;
      phase_ = Phase::kRunning;
      copied_before = copied_frames_;
    }
    int log_frames = 0;
    int copied_frames = 0;
    int result = sqlite3_wal_checkpoint_v2(connection_->getHandle(), nullptr,
                                           SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied_frames);
    // A round that copied nothing new (a reader still uses old frames, or the copy or its sync
    // failed) is not repeated at once; one that made progress is, as soon as a commit asks. A
    // round that copied all it saw made progress even if the count equals the last round's,
    // which may have been of the log before it started over.
    bool progressed =
        result == SQLITE_OK && (copied_frames == log_frames || copied_frames != copied_before);
    // SQLite syncs the database file only after a round that found no newer commit, which
    // under load is the commit thread's copy of the rest: that fsync then paid for every page
    // of every round before it (44 ms; the whole copy takes 5-9 ms with them on disk already),
    // and every write queued behind the commit waited for it. Paid here, off the commit thread.
    // Not skipped when the round copied every frame it counted: that count is of the log as the
    // round began, and under load SQLite still found newer frames at its end and did not sync.
    if (progressed && copied_frames > 0) {
      result = SyncDatabaseFile();
      progressed = result == SQLITE_OK;
    }
    ++checkpoints_;
    absl::MutexLock lock(&mu_);
    // A failure (disk full, I/O error) leaves the log as it was: everything in it is already
    // durable, and the next commit over the threshold asks again.
    phase_ = result == SQLITE_OK ? Phase::kDone : Phase::kIdle;
    copied_frames_ = copied_frames;
    if (!progressed && mu_.AwaitWithTimeout(absl::Condition(&stopping_), kMinPause)) return;
  }
}

}  // namespace linechannel::storage
