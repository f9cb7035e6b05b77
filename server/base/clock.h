#ifndef LINECHANNEL_SERVER_BASE_CLOCK_H_
#define LINECHANNEL_SERVER_BASE_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace linechannel::server {

// The time, behind an interface so tests can set it. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BASE_CLOCK_H_
