#include "server/webhook/event_retention.h"

#include "server/base/logger.h"

namespace linechannel::server {

EventRetention::EventRetention(storage::EventStore* store, storage::JobSchedule* jobs,
                               const Clock* clock, Options options)
    : store_(store), jobs_(jobs), clock_(clock), options_(options), thread_([this] { Loop(); }) {}

EventRetention::~EventRetention() {
  stop_.Stop();
  thread_.join();
}

absl::StatusOr<int> EventRetention::RunOnce() {
  const absl::Time cutoff = clock_->Now() - options_.keep;
  int total = 0;
  while (true) {
    if (stop_.stopped()) break;
    absl::StatusOr<int> deleted = store_->DeleteEventsReceivedBefore(cutoff, options_.batch);
    if (!deleted.ok()) return deleted.status();
    total += *deleted;
    if (*deleted < options_.batch) break;
  }
  return total;
}

void EventRetention::Loop() {
  while (stop_.SleepFor(options_.interval)) {
    absl::StatusOr<int> deleted = 0;
    absl::StatusOr<bool> ran = jobs_->RunIfDue("event_retention", options_.interval,
                                               clock_->Now(), [&] { deleted = RunOnce(); });
    if (!ran.ok()) deleted = ran.status();
    if (!deleted.ok()) {
      LogLine(LogLevel::kWarning, "retention_failed").WithStatus(deleted.status());
    } else if (*deleted > 0) {
      LogLine(LogLevel::kInfo, "retention").With("deleted_events", *deleted);
    }
  }
}

}  // namespace linechannel::server
