#include "tools/fake_line/clock.h"

#include <string>

namespace linechannel::fake_line {

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return absl::Now() + offset_;
}

void FakeClock::Advance(absl::Duration by) {
  if (by <= absl::ZeroDuration()) return;
  absl::MutexLock lock(&mu_);
  offset_ += by;
}

absl::Duration FakeClock::offset() const {
  absl::MutexLock lock(&mu_);
  return offset_;
}

std::string FormatRfc3339Millis(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace linechannel::fake_line
