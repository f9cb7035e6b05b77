#ifndef LINECHANNEL_SERVER_BINDING_RECHECK_SCHEDULE_H_
#define LINECHANNEL_SERVER_BINDING_RECHECK_SCHEDULE_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace linechannel::server {

// When the periodic re-check looks at a binding. Each binding has a stable place in the
// interval, derived from its binding id alone (so every replica and every restart agrees):
// it is due whenever the wall clock passes that place, once per interval. Bindings spread
// evenly over the interval however many there are and whenever the servers started, so LINE
// never sees a burst of re-checks after a start or a deploy.

// The binding's place in every interval: how long after each multiple of `interval` (counted
// from the Unix epoch) it is due. In [0, interval). `interval` must be positive.
absl::Duration RecheckOffset(absl::string_view binding_id, absl::Duration interval);

// Whether the binding's place falls in the window (from, to]; true for any window as long
// as the interval or longer.
bool RecheckDueIn(absl::string_view binding_id, absl::Duration interval, absl::Time from,
                  absl::Time to);

// How long to wait before proving an unverified binding again after LINE could not be asked:
// twice the last wait, at least `first` and at most `most`.
absl::Duration NextUnverifiedWait(absl::Duration last, absl::Duration first, absl::Duration most);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_RECHECK_SCHEDULE_H_
