#ifndef LINECHANNEL_STORAGE_JOB_SCHEDULE_H_
#define LINECHANNEL_STORAGE_JOB_SCHEDULE_H_

#include <functional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace linechannel::storage {

// Background jobs that every server runs on a timer but that must run on one process at a
// time and once per period across all of them, as on a single server: the periodic re-check
// with LINE and event retention, when several replicas share a database. The store keeps
// when each job last started. One of the store's roles (store.h); status conventions as in
// binding_store.h. Thread-safe.
class JobSchedule {
 public:
  virtual ~JobSchedule() = default;

  // Runs `job` (on the calling thread) if no process is running the job `name` and it did
  // not start within `period` before `now`; once `job` returns, records `now` as its start.
  // Returns whether it ran. A job that did not finish (the process died) counts as not run.
  virtual absl::StatusOr<bool> RunIfDue(absl::string_view name, absl::Duration period,
                                        absl::Time now, const std::function<void()>& job) = 0;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_JOB_SCHEDULE_H_
