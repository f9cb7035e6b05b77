#ifndef LINECHANNEL_SERVER_MESSAGING_OUTBOUND_LIMITER_H_
#define LINECHANNEL_SERVER_MESSAGING_OUTBOUND_LIMITER_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/base/clock.h"

namespace linechannel::server {

// Each binding's share of this server's calls to LINE, so that one busy team cannot take the
// threads and LINE's connections from the others: a request rate (token bucket) and a cap on
// calls in flight at once (a binding whose calls hang holds at most that many threads).
// Thread-safe.
class OutboundLimiter {
 public:
  struct Options {
    // Sustained calls per second per binding, and how many may come at once after a quiet
    // spell. 0 turns the rate limit off.
    double per_second = 100;
    int burst = 200;
    // Calls of one binding waiting for LINE at once.
    int max_in_flight = 16;
  };

  // Held while a call to LINE is made; gives its place back when destroyed.
  class Permit {
   public:
    Permit(Permit&& other) noexcept : limiter_(other.limiter_), row_id_(other.row_id_) {
      other.limiter_ = nullptr;
    }
    Permit& operator=(Permit&&) = delete;
    ~Permit();

   private:
    friend class OutboundLimiter;
    Permit(OutboundLimiter* limiter, int64_t row_id) : limiter_(limiter), row_id_(row_id) {}
    OutboundLimiter* limiter_;
    int64_t row_id_;
  };

  OutboundLimiter(const Clock* clock, Options options);

  // A permit for one call of binding `row_id`, or RESOURCE_EXHAUSTED OUTBOUND_RATE_LIMITED
  // with a RetryInfo of when a call will be allowed again.
  absl::StatusOr<Permit> Acquire(int64_t row_id);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time refilled_at;
    int in_flight = 0;
  };

  void Release(int64_t row_id);
  // Forgets buckets that are full and idle, so the map stays as small as the busy bindings.
  void ForgetIdle(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* const clock_;
  const Options options_;
  absl::Mutex mu_;
  absl::flat_hash_map<int64_t, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  absl::Time forgot_at_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_MESSAGING_OUTBOUND_LIMITER_H_
