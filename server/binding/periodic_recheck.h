#ifndef LINECHANNEL_SERVER_BINDING_PERIODIC_RECHECK_H_
#define LINECHANNEL_SERVER_BINDING_PERIODIC_RECHECK_H_

#include <cstdint>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/base/clock.h"
#include "server/base/stop_signal.h"
#include "server/binding/binding_proof.h"
#include "server/binding/binding_service.h"
#include "server/binding/line_webhook_settings.h"
#include "storage/binding_store.h"
#include "storage/job_schedule.h"

namespace linechannel::server {

// Keeps every binding checked with LINE without anyone asking, on two tracks:
//  - Every verified binding gets the checks that cost no test webhook (token, URL, "Use
//    webhook") once per `interval`, at its own place in the interval (recheck_schedule.h), so
//    drift (URL repointed in the console, "Use webhook" off, token revoked) shows as
//    NEEDS_ATTENTION and clears once fixed.
//  - Every unverified binding (bound while LINE was unreachable) gets the full bind-time
//    proof (BindingProof) `unverified_first_retry` after it was bound or its credentials
//    changed, then again after twice the last wait while LINE stays unreachable, at most every
//    `unverified_max_retry`; after LINE's "no", every `unverified_max_retry` (a credential
//    update starts over), until LINE confirms it.
// Both tracks run as one job of the job schedule, so with several replicas on one database one
// of them at a time does the work, and at most `per_second` bindings are checked per second.
// Thread-safe.
class PeriodicRecheck {
 public:
  struct Options {
    absl::Duration interval = absl::Hours(6);
    double per_second = 2;
    absl::Duration unverified_first_retry = absl::Seconds(30);
    absl::Duration unverified_max_retry = absl::Minutes(5);
  };

  // Starts the thread, which looks every minute (or sooner, with a short interval or first
  // retry) whether the job is due: bindings whose place passed since this process last ran
  // the job (or started: no burst after a start), and unverified bindings whose retry is due.
  PeriodicRecheck(storage::BindingStore* store, storage::JobSchedule* jobs,
                  BindingService* bindings, LineWebhookSettings* checks, const BindingProof* proof,
                  const Clock* clock, Options options);
  ~PeriodicRecheck();

  // How often the thread looks whether the job is due.
  static absl::Duration TickOf(const Options& options);

 private:
  // When an unverified binding is tried next, in this process.
  struct Retry {
    absl::Time credentials_updated_at;
    absl::Duration wait;
    absl::Time next;
  };
  struct Counts {
    int checked = 0;
    int proved = 0;
    int rejected = 0;
  };

  void Loop();
  // One pass over the active bindings at `now`: the verified ones whose place is in
  // (from, now], and the unverified ones whose retry is due. False when it did not get through
  // (stopped, or the store failed): the next round looks at the same window again.
  bool RunRound(absl::Time from, absl::Time now, Counts& counts);
  // Proves one unverified binding; updates its retry.
  void ProveOne(const storage::Binding& binding, absl::Time now, Counts& counts);
  // The light checks for one binding.
  void CheckOne(const storage::Binding& binding, Counts& counts);

  storage::BindingStore* const store_;
  storage::JobSchedule* const jobs_;
  BindingService* const bindings_;
  LineWebhookSettings* const checks_;
  const BindingProof* const proof_;
  const Clock* const clock_;
  const Options options_;
  // Only the thread uses it.
  std::map<int64_t, Retry> retries_;
  StopSignal stop_;
  std::thread thread_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_PERIODIC_RECHECK_H_
