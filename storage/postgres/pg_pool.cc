#include "storage/postgres/pg_pool.h"

#include <utility>

namespace linechannel::storage {

PgPool::Lease::~Lease() {
  if (connection_ != nullptr) pool_->Return(std::move(connection_));
}

PgPool::PgPool(PgConnection::Settings settings, int size)
    : settings_(std::move(settings)), size_(size) {}

absl::StatusOr<PgPool::Lease> PgPool::Borrow() {
  {
    absl::MutexLock lock(&mu_);
    // Every connection busy for this long means they are stuck: fail rather than pile up.
    if (!mu_.AwaitWithTimeout(absl::Condition(
                                  +[](PgPool* pool) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool->mu_) {
                                    return !pool->free_.empty() || pool->open_ < pool->size_;
                                  },
                                  this),
                              settings_.lock_timeout + absl::Seconds(5))) {
      return absl::UnavailableError("storage: every PostgreSQL connection is busy");
    }
    if (!free_.empty()) {
      std::unique_ptr<PgConnection> connection = std::move(free_.back());
      free_.pop_back();
      return Lease(this, std::move(connection));
    }
    ++open_;
  }
  // Opened outside the lock: a slow or unreachable server must not block returns.
  auto opened = PgConnection::Open(settings_);
  if (!opened.ok()) {
    absl::MutexLock lock(&mu_);
    --open_;
    return opened.status();
  }
  return Lease(this, *std::move(opened));
}

void PgPool::Return(std::unique_ptr<PgConnection> connection) {
  // A broken connection, or one left inside a transaction by a caller's error, is closed.
  const bool keep = !connection->broken() && !connection->in_transaction();
  if (!keep) connection.reset();
  absl::MutexLock lock(&mu_);
  if (keep) {
    free_.push_back(std::move(connection));
  } else {
    --open_;
  }
}

}  // namespace linechannel::storage
