#ifndef LINECHANNEL_STORAGE_SQLITE_CONNECTION_POOL_H_
#define LINECHANNEL_STORAGE_SQLITE_CONNECTION_POOL_H_

#include <memory>
#include <string>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linechannel::storage {

// Settings every connection to the database file gets.
struct ConnectionSettings {
  std::string path;
  // How long a statement waits for a lock held by another connection before failing.
  absl::Duration busy_timeout = absl::Seconds(5);
  // The page size a new database file is created with (an existing file keeps its own); 0
  // leaves SQLite's default (4096).
  int page_size = 0;
};

// Opens a connection with the settings every connection needs: WAL, synchronous=FULL (what we
// acknowledge is on disk), foreign keys, the busy timeout. `read_only` connections refuse writes.
// The connection has no lock of its own (SQLite's multi-thread mode): it must be used by one
// thread at a time.
absl::StatusOr<std::unique_ptr<SQLite::Database>> OpenConnection(const ConnectionSettings& settings,
                                                                 bool read_only);

// A fixed set of read-only connections, lent out one caller at a time; WAL lets them read while
// the writer commits. Thread-safe.
class ConnectionPool {
 public:
  // A borrowed connection, returned to the pool when destroyed.
  class Lease {
   public:
    Lease(ConnectionPool* pool, SQLite::Database* db) : pool_(pool), db_(db) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), db_(other.db_) { other.db_ = nullptr; }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (db_ != nullptr) pool_->Return(db_);
    }
    SQLite::Database& operator*() const { return *db_; }
    SQLite::Database* operator->() const { return db_; }

   private:
    ConnectionPool* pool_;
    SQLite::Database* db_;
  };

  static absl::StatusOr<std::unique_ptr<ConnectionPool>> Open(const ConnectionSettings& settings,
                                                              int size);

  // Waits for a free connection.
  Lease Borrow();

 private:
  ConnectionPool() = default;
  void Return(SQLite::Database* db);

  std::vector<std::unique_ptr<SQLite::Database>> connections_;
  absl::Mutex mu_;
  std::vector<SQLite::Database*> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_CONNECTION_POOL_H_
