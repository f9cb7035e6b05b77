#include "storage/sqlite/commit_linger.h"

#include <cmath>

namespace linechannel::storage {

size_t CommitLinger::WritesToWaitFor() const {
  if (max_wait_ <= absl::ZeroDuration() || recent_idle_share_ < kIdleShare) return 0;
  // A committer looks only once a write is queued: waiting for one is not waiting.
  const long wanted = std::lround(recent_batch_ * kBatchShare);
  return wanted > 1 ? static_cast<size_t>(wanted) : 0;
}

void CommitLinger::Record(size_t writes, absl::Duration idle, absl::Duration busy) {
  constexpr double kWeight = 0.1;
  recent_batch_ += kWeight * (static_cast<double>(writes) - recent_batch_);
  const absl::Duration both = idle + busy;
  const double idle_share = both > absl::ZeroDuration() ? absl::FDivDuration(idle, both) : 0;
  recent_idle_share_ += kWeight * (idle_share - recent_idle_share_);
}

}  // namespace linechannel::storage
