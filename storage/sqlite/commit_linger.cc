#include "storage/sqlite/commit_linger.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace linechannel::storage {

size_t CommitLinger::WritesToWaitFor() const {
  if (max_wait_ <= absl::ZeroDuration() || recent_idle_share_ < kIdleShare) return 0;
  // The write that woke the committer is queued already: a target of one is met.
  const int64_t wanted = std::llround(recent_batch_ * kBatchShare);
  return wanted > 1 ? static_cast<size_t>(wanted) : 0;
}

void CommitLinger::Record(size_t writes, absl::Duration idle, absl::Duration busy) {
  recent_batch_ += kWeight * (static_cast<double>(writes) - recent_batch_);
  idle = std::max(idle, absl::ZeroDuration());  // A wall clock stepped back.
  const absl::Duration both = idle + busy;
  const double idle_share = both > absl::ZeroDuration() ? absl::FDivDuration(idle, both) : 0;
  recent_idle_share_ += kWeight * (idle_share - recent_idle_share_);
}

}  // namespace linechannel::storage
