#ifndef LINECHANNEL_STORAGE_POSTGRES_PG_POOL_H_
#define LINECHANNEL_STORAGE_POSTGRES_PG_POOL_H_

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "storage/postgres/pg_connection.h"

namespace linechannel::storage {

// Up to `size` connections, opened when first needed and lent to one caller at a time. A
// connection returned broken (the server restarted, the network failed) is closed, and the
// next borrower opens a fresh one: the store recovers by itself once PostgreSQL is back.
// Thread-safe.
class PgPool {
 public:
  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<PgConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    PgConnection& operator*() const { return *connection_; }
    PgConnection* operator->() const { return connection_.get(); }

   private:
    PgPool* pool_;
    std::unique_ptr<PgConnection> connection_;
  };

  PgPool(PgConnection::Settings settings, int size);

  // A connection: a free one, a new one while fewer than `size` are open, or the next one
  // returned. UNAVAILABLE if a new one cannot be opened, or none is returned within the lock
  // timeout and some seconds more.
  absl::StatusOr<Lease> Borrow();

 private:
  void Return(std::unique_ptr<PgConnection> connection);

  const PgConnection::Settings settings_;
  const int size_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<PgConnection>> free_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;
};

// Runs `body(connection)` in one transaction on a pooled connection: COMMIT if it returns OK,
// ROLLBACK otherwise. A deadlock or serialization failure is retried a few times (the
// transaction did nothing), as is a pooled connection found dead at BEGIN (the server
// restarted since it was last used); other errors are returned as they are.
template <typename Body>
absl::Status InTransaction(PgPool& pool, absl::string_view what, Body body) {
  absl::Status status;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto connection = pool.Borrow();
    if (!connection.ok()) return connection.status();
    PgConnection& db = **connection;
    auto begun = db.Exec("BEGIN", what);
    if (!begun.ok()) {
      status = begun.status();
      if (db.broken()) continue;
      return status;
    }
    status = body(db);
    if (status.ok()) {
      auto committed = db.Exec("COMMIT", what);
      if (committed.ok()) return absl::OkStatus();
      status = committed.status();
    }
    if (db.in_transaction()) (void)db.Exec("ROLLBACK", what);
    if (!IsRetryableConflict(status)) return status;
  }
  return status;
}

// Runs `read(connection)` (one or more statements outside a transaction) on a pooled
// connection; if that connection turns out dead (the server restarted since it was last
// used), once more on a fresh one.
template <typename Result, typename Read>
absl::StatusOr<Result> ReadWith(PgPool& pool, Read read) {
  absl::StatusOr<Result> result = absl::UnavailableError("storage: no connection");
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto connection = pool.Borrow();
    if (!connection.ok()) return connection.status();
    result = read(**connection);
    if (result.ok() || !(*connection)->broken()) return result;
  }
  return result;
}

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_POSTGRES_PG_POOL_H_
