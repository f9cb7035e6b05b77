#include "storage/sqlite/signed_requests.h"

#include <algorithm>

namespace linechannel::storage {

std::vector<SignedRequests::Write> SignedRequests::ToWrite(int64_t binding_row_id, int64_t at_us,
                                                           bool empty) {
  std::vector<Write> writes;
  if (!empty) {
    if (at_us - batch_taken_at_us_ < batch_interval_us_) return writes;
    batch_taken_at_us_ = at_us;
    absl::MutexLock lock(&mu_);
    writes = TakePendingLocked();
  }
  writes.push_back({binding_row_id, at_us});
  return writes;
}

void SignedRequests::Committed(int64_t binding_row_id, int64_t at_us,
                               const std::vector<Write>& written) {
  absl::MutexLock lock(&mu_);
  Binding& binding = bindings_[binding_row_id];
  binding.committed_us = std::max(binding.committed_us, at_us);
  for (const Write& write : written) {
    Binding& stored = bindings_[write.binding_row_id];
    stored.written_us = std::max(stored.written_us, write.at_us);
    PendIfNewer(write.binding_row_id, stored);
  }
  PendIfNewer(binding_row_id, binding);
}

void SignedRequests::NotCommitted(const std::vector<Write>& written) {
  absl::MutexLock lock(&mu_);
  for (const Write& write : written)
    PendIfNewer(write.binding_row_id, bindings_[write.binding_row_id]);
}

std::optional<int64_t> SignedRequests::Newest(int64_t binding_row_id) const {
  absl::MutexLock lock(&mu_);
  const auto it = bindings_.find(binding_row_id);
  if (it == bindings_.end() || it->second.committed_us == 0) return std::nullopt;
  return it->second.committed_us;
}

std::vector<SignedRequests::Write> SignedRequests::TakePending() {
  absl::MutexLock lock(&mu_);
  return TakePendingLocked();
}

std::vector<SignedRequests::Write> SignedRequests::TakePendingLocked() {
  std::vector<Write> writes;
  writes.reserve(pending_.size() + 1);
  for (const int64_t binding_row_id : pending_) {
    Binding& binding = bindings_[binding_row_id];
    binding.pending = false;
    writes.push_back({binding_row_id, binding.committed_us});
  }
  pending_.clear();
  return writes;
}

void SignedRequests::PendIfNewer(int64_t binding_row_id, Binding& binding) {
  if (binding.committed_us > binding.written_us && !binding.pending) {
    binding.pending = true;
    pending_.push_back(binding_row_id);
  }
}

}  // namespace linechannel::storage
