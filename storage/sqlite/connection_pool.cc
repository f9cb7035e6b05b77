#include "storage/sqlite/connection_pool.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "storage/sqlite/gathered_log_writes.h"
#include "storage/sqlite/sqlite_errors.h"

namespace linechannel::storage {
namespace {

// SQLite counts every allocation it makes under one process-wide mutex, for sqlite3_status(),
// which nothing here reads. Only possible before SQLite starts (the first connection opened in
// the process); afterwards the call is refused and the counting stays, which costs only time.
void StopSqliteMemoryCounting() {
  static const int once = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  static_cast<void>(once);
}

}  // namespace

absl::StatusOr<std::unique_ptr<SQLite::Database>> OpenConnection(const ConnectionSettings& settings,
                                                                 bool read_only) {
  StopSqliteMemoryCounting();
  try {
    const int flags =
        read_only ? SQLite::OPEN_READWRITE : SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE;
    // NOMUTEX: each connection is used by one thread at a time (the writer by the commit
    // thread, a reader by whoever holds its lease), so SQLite's own lock around every call on
    // it (each bind, step and reset) guards nothing. With the allocation counting above, those
    // locks were about a tenth of the commit thread's time under 20-event webhooks.
    auto db = std::make_unique<SQLite::Database>(
        settings.path.c_str(), flags | SQLite::OPEN_NOFOLLOW | SQLite::OPEN_NOMUTEX,
        static_cast<int>(absl::ToInt64Milliseconds(settings.busy_timeout)),
        GatheringLogWritesVfs(sqlite3_vfs_find(nullptr)));
    // Before WAL mode, which writes the new file's first page and so fixes its page size.
    if (!read_only && settings.page_size > 0) {
      db->exec(absl::StrCat("PRAGMA page_size = ", settings.page_size));
    }
    db->exec("PRAGMA journal_mode = WAL");
    db->exec("PRAGMA synchronous = FULL");
    db->exec("PRAGMA foreign_keys = ON");
    // Readers open the file read-write (WAL readers need the shared-memory index) but are
    // kept from writing by the connection itself.
    if (read_only) db->exec("PRAGMA query_only = ON");
    return db;
  } catch (const SQLite::Exception& e) {
    return StatusFromSqlite(e, absl::StrCat("opening ", settings.path));
  }
}

absl::StatusOr<std::unique_ptr<ConnectionPool>> ConnectionPool::Open(
    const ConnectionSettings& settings, int size) {
  std::unique_ptr<ConnectionPool> pool(new ConnectionPool());
  for (int i = 0; i < size; ++i) {
    auto db = OpenConnection(settings, /*read_only=*/true);
    if (!db.ok()) return db.status();
    pool->connections_.push_back(*std::move(db));
  }
  absl::MutexLock lock(&pool->mu_);
  for (auto& db : pool->connections_) pool->free_.push_back(db.get());
  return pool;
}

ConnectionPool::Lease ConnectionPool::Borrow() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](std::vector<SQLite::Database*>* free) { return !free->empty(); }, &free_));
  SQLite::Database* db = free_.back();
  free_.pop_back();
  return Lease(this, db);
}

void ConnectionPool::Return(SQLite::Database* db) {
  absl::MutexLock lock(&mu_);
  free_.push_back(db);
}

}  // namespace linechannel::storage
