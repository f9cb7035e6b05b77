#ifndef LINECHANNEL_SERVER_BASE_STOP_SIGNAL_H_
#define LINECHANNEL_SERVER_BASE_STOP_SIGNAL_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linechannel::server {

// Lets a background thread sleep between rounds of work and wake at once when its owner stops
// it. Thread-safe.
class StopSignal {
 public:
  void Stop() {
    absl::MutexLock lock(&mu_);
    stopped_ = true;
  }

  bool stopped() const {
    absl::MutexLock lock(&mu_);
    return stopped_;
  }

  // Sleeps for `duration` or until Stop(); returns false if stopped.
  bool SleepFor(absl::Duration duration) const {
    absl::MutexLock lock(&mu_);
    return !mu_.AwaitWithTimeout(absl::Condition(&stopped_), duration);
  }

 private:
  mutable absl::Mutex mu_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BASE_STOP_SIGNAL_H_
