#include "tools/fake_line/clock.h"

#include <string>

namespace linechannel::fake_line {

absl::Time FakeClock::NowLocked() const {
  return frozen_at_.has_value() ? *frozen_at_ : absl::Now() + offset_;
}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return NowLocked();
}

void FakeClock::Advance(absl::Duration by) {
  if (by <= absl::ZeroDuration()) return;
  absl::MutexLock lock(&mu_);
  offset_ += by;
  if (frozen_at_.has_value()) *frozen_at_ += by;
}

void FakeClock::SetFrozen(bool frozen) {
  absl::MutexLock lock(&mu_);
  if (frozen == frozen_at_.has_value()) return;
  if (frozen) {
    frozen_at_ = NowLocked();
  } else {
    // Run on from the frozen instant: the time spent frozen is taken out of the offset.
    offset_ = *frozen_at_ - absl::Now();
    frozen_at_.reset();
  }
}

bool FakeClock::frozen() const {
  absl::MutexLock lock(&mu_);
  return frozen_at_.has_value();
}

absl::Duration FakeClock::offset() const {
  absl::MutexLock lock(&mu_);
  return offset_;
}

std::string FormatRfc3339Millis(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace linechannel::fake_line
