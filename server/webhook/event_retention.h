#ifndef LINECHANNEL_SERVER_WEBHOOK_EVENT_RETENTION_H_
#define LINECHANNEL_SERVER_WEBHOOK_EVENT_RETENTION_H_

#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/base/clock.h"
#include "server/base/stop_signal.h"
#include "storage/event_store.h"
#include "storage/job_schedule.h"

namespace linechannel::server {

// Deletes events received longer ago than the retention period, from its own thread, every
// `interval`, in small batches: each batch is its own short transaction, so webhook commits
// queue behind at most one batch. Thread-safe.
class EventRetention {
 public:
  struct Options {
    // How long events are kept.
    absl::Duration keep = absl::Hours(24 * 30);
    absl::Duration interval = absl::Minutes(1);
    int batch = 500;
  };

  // Starts the thread.
  // With several replicas on one database, one of them runs each pass (`jobs` decides).
  EventRetention(storage::EventStore* store, storage::JobSchedule* jobs, const Clock* clock,
                 Options options);
  // Stops the thread (a batch in progress finishes first).
  ~EventRetention();

  // Deletes every event older than the retention period, batch by batch; returns how many.
  absl::StatusOr<int> RunOnce();

 private:
  void Loop();

  storage::EventStore* const store_;
  storage::JobSchedule* const jobs_;
  const Clock* const clock_;
  const Options options_;
  StopSignal stop_;
  std::thread thread_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_WEBHOOK_EVENT_RETENTION_H_
