#ifndef LINECHANNEL_TOOLS_FAKE_LINE_CLOCK_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_CLOCK_H_

#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linechannel::fake_line {

// The fake platform's notion of "now": the real time plus an offset that tests move forward
// (POST /fake/clock/advance) so rate-limit windows and token lifetimes pass without waiting.
// A test can also freeze it, so that only Advance() moves it and per-second limits do not
// depend on how fast the machine is. Never moves backwards. Thread-safe.
class FakeClock {
 public:
  absl::Time Now() const;
  // Adds `by` to the offset. Negative durations are ignored.
  void Advance(absl::Duration by);
  absl::Duration offset() const;
  // Frozen: Now() stays where it is until Advance(). Unfrozen again, it runs on from there.
  void SetFrozen(bool frozen);
  bool frozen() const;

 private:
  absl::Time NowLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::Duration offset_ ABSL_GUARDED_BY(mu_);
  // Set while frozen: the time Now() answers.
  std::optional<absl::Time> frozen_at_ ABSL_GUARDED_BY(mu_);
};

// `t` as RFC 3339 in UTC with milliseconds, e.g. "2020-09-30T05:38:20.031Z".
std::string FormatRfc3339Millis(absl::Time t);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_CLOCK_H_
