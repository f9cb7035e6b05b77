#include "storage/sqlite/checkpointer.h"

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

int Checkpointer::AfterCommit(void* self, sqlite3* /*db*/, const char* /*database*/, int pages) {
  auto* checkpointer = static_cast<Checkpointer*>(self);
  if (pages >= checkpointer->wal_pages_) {
    absl::MutexLock lock(&checkpointer->mu_);
    checkpointer->wanted_ = true;
  }
  return SQLITE_OK;
}

void Checkpointer::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Checkpointer* c)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) { return c->wanted_ || c->stopping_; },
          this));
      if (stopping_) return;
      wanted_ = false;
    }
    // A failure (disk full, I/O error) leaves the log as it was: everything in it is already
    // durable, and the next commit over the threshold asks again.
    sqlite3_wal_checkpoint_v2(connection_->getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                              nullptr);
    ++checkpoints_;
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), kMinPause)) return;
  }
}

}  // namespace linechannel::storage
