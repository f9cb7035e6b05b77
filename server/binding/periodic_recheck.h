#ifndef LINECHANNEL_SERVER_BINDING_PERIODIC_RECHECK_H_
#define LINECHANNEL_SERVER_BINDING_PERIODIC_RECHECK_H_

#include <thread>

#include "absl/time/time.h"
#include "server/binding/binding_service.h"
#include "server/base/stop_signal.h"
#include "server/binding/line_webhook_settings.h"
#include "storage/binding_store.h"
#include "storage/job_schedule.h"

namespace linechannel::server {

// Goes over every active binding every `interval` and runs the checks that cost no test
// webhook (token, URL, "Use webhook"), so drift shows as NEEDS_ATTENTION without anyone
// asking: the URL repointed in the console, "Use webhook" switched off, a token revoked.
// Paced at `per_second` bindings, well inside LINE's rate limits. With several replicas on one
// database, one of them runs each round (the job schedule decides). Thread-safe.
class PeriodicRecheck {
 public:
  struct Options {
    absl::Duration interval = absl::Hours(6);
    double per_second = 2;
  };

  // Starts the thread. It looks every minute (or interval, if shorter) whether a round is due:
  // one interval after the last round started, on whichever process; the first one soon after
  // the first start.
  PeriodicRecheck(storage::BindingStore* store, storage::JobSchedule* jobs,
                  BindingService* bindings, LineWebhookSettings* checks, Options options);
  ~PeriodicRecheck();

  // One round over every active binding; returns how many were checked.
  int RunOnce();

 private:
  void Loop();

  storage::BindingStore* const store_;
  storage::JobSchedule* const jobs_;
  BindingService* const bindings_;
  LineWebhookSettings* const checks_;
  const Options options_;
  StopSignal stop_;
  std::thread thread_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_PERIODIC_RECHECK_H_
