#include "server/event_retention.h"

#include "server/logger.h"

namespace linechannel::server {

EventRetention::EventRetention(storage::EventStore* store, const Clock* clock, Options options)
    : store_(store), clock_(clock), options_(options), thread_([this] { Loop(); }) {}

EventRetention::~EventRetention() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

absl::StatusOr<int> EventRetention::RunOnce() {
  const absl::Time cutoff = clock_->Now() - options_.keep;
  int total = 0;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
    }
    absl::StatusOr<int> deleted = store_->DeleteEventsReceivedBefore(cutoff, options_.batch);
    if (!deleted.ok()) return deleted.status();
    total += *deleted;
    if (*deleted < options_.batch) break;
  }
  return total;
}

void EventRetention::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(
                                   +[](EventRetention* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) {
                                     return r->stopping_;
                                   },
                                   this),
                               options_.interval)) {
        return;
      }
    }
    absl::StatusOr<int> deleted = RunOnce();
    if (!deleted.ok()) {
      LogLine(LogLevel::kWarning, "retention_failed").WithStatus(deleted.status());
    } else if (*deleted > 0) {
      LogLine(LogLevel::kInfo, "retention").With("deleted_events", *deleted);
    }
  }
}

}  // namespace linechannel::server
