#ifndef LINECHANNEL_SERVER_MESSAGING_PUSH_SENDER_H_
#define LINECHANNEL_SERVER_MESSAGING_PUSH_SENDER_H_

#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/base/clock.h"
#include "server/base/metrics.h"
#include "server/crypto/secret_sealer.h"
#include "server/line/line_messaging_api.h"
#include "storage/binding.h"
#include "storage/binding_store.h"
#include "storage/job_schedule.h"
#include "storage/push_outbox.h"

namespace linechannel::server {

// Sends stored pushes to LINE: one attempt at a time under the push's lease, always with the
// push's own retry key, recording each attempt's outcome in the outbox. Also, on threads of
// its own, makes every attempt that comes due: retries after LINE failed or rate-limited us,
// and pushes a crashed process had leased (their lease runs out). Thread-safe.
//
// An attempt ends a push as SENT when LINE accepts it or answers that its retry key was
// accepted already (409), as FAILED when LINE refuses it for good (a 4xx other than 429), and
// otherwise schedules the next attempt: after LINE's Retry-After for a 429 (spread by up to
// half as much again, so a burst of pushes does not come back at once), else with jittered
// exponential backoff. A push still unsent `give_up_after` its acceptance fails with
// LINE_UNAVAILABLE: LINE keeps a retry key for 24 hours, so a later attempt might send twice.
class PushSender {
 public:
  struct Options {
    // One call to LINE.
    absl::Duration call_timeout = absl::Seconds(10);
    // How long an attempt holds its push; more than a call takes, so a live sender never loses
    // its push to another.
    absl::Duration lease = absl::Seconds(30);
    absl::Duration first_retry = absl::Seconds(1);
    absl::Duration max_retry = absl::Minutes(5);
    absl::Duration give_up_after = absl::Hours(23);
    // How often the retry threads look for due pushes.
    absl::Duration poll = absl::Milliseconds(500);
    int threads = 2;
    // Ended pushes older than this are deleted, once a minute (across replicas: `jobs`).
    absl::Duration keep = absl::Hours(24 * 7);
  };

  PushSender(storage::PushOutbox* outbox, storage::BindingStore* bindings,
             storage::JobSchedule* jobs, LineMessagingApi* line, const SecretSealer* sealer,
             const Clock* clock, Metrics* metrics, Options options);
  ~PushSender();

  // Starts the retry threads.
  void Start();
  // Stops them after their current attempt; pushes left pending stay in the outbox.
  void Stop();

  // One attempt of `push`, which the caller holds the lease of, through `binding`'s OA;
  // LINE's call gives up at `deadline` (at most call_timeout). Returns the push as stored
  // afterwards. Errors only when the outcome could not be stored (the lease then runs out and
  // a retry thread makes the attempt again, under the same retry key).
  absl::StatusOr<storage::PushRecord> Attempt(const storage::PushRecord& push,
                                              const storage::Binding& binding, absl::Time deadline);

  const Options& options() const { return options_; }

 private:
  // When to attempt again after `attempts` failed attempts (`failure`: the last one's error).
  absl::Time NextAttemptAt(int attempts, const absl::Status& failure, absl::Time now);
  storage::PushAttempt Outcome(const storage::PushRecord& push,
                               const absl::StatusOr<LineSendResult>& sent, absl::Time now);
  // Attempts one leased push the retry threads found.
  void AttemptLeased(const storage::PushRecord& push);
  // `with_retention`: this thread also deletes old ended pushes.
  void RetryLoop(bool with_retention);
  // Deletes ended pushes older than `keep`, batch by batch; returns how many.
  absl::StatusOr<int> DeleteOld();

  storage::PushOutbox* const outbox_;
  storage::BindingStore* const bindings_;
  storage::JobSchedule* const jobs_;
  LineMessagingApi* const line_;
  const SecretSealer* const sealer_;
  const Clock* const clock_;
  Metrics* const metrics_;
  const Options options_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::BitGen jitter_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_MESSAGING_PUSH_SENDER_H_
