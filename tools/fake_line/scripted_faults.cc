#include "tools/fake_line/scripted_faults.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace linechannel::fake_line {

std::string FaultName(const ScriptedFault& fault) {
  switch (fault.kind) {
    case ScriptedFault::Kind::kStatus:
      return absl::StrCat(fault.status);
    case ScriptedFault::Kind::kTimeout:
      return "timeout";
    case ScriptedFault::Kind::kDrop:
      return "drop";
  }
  return "";
}

void FaultScript::Add(absl::string_view channel_id, absl::string_view endpoint,
                      const ScriptedFault& fault, int64_t count) {
  if (count <= 0) return;
  absl::MutexLock lock(&mu_);
  queues_[channel_id][endpoint].push_back(Pending{std::string(endpoint), fault, count});
}

std::optional<ScriptedFault> FaultScript::Take(absl::string_view channel_id,
                                               absl::string_view endpoint) {
  absl::MutexLock lock(&mu_);
  auto channel = queues_.find(channel_id);
  if (channel == queues_.end()) return std::nullopt;
  auto queue = channel->second.find(endpoint);
  if (queue == channel->second.end() || queue->second.empty()) return std::nullopt;
  Pending& next = queue->second.front();
  const ScriptedFault fault = next.fault;
  if (--next.remaining == 0) queue->second.pop_front();
  return fault;
}

std::vector<FaultScript::Pending> FaultScript::List(absl::string_view channel_id) const {
  absl::MutexLock lock(&mu_);
  std::vector<Pending> pending;
  auto channel = queues_.find(channel_id);
  if (channel == queues_.end()) return pending;
  for (const auto& [endpoint, queue] : channel->second) {
    pending.insert(pending.end(), queue.begin(), queue.end());
  }
  // Map order is arbitrary; list endpoints alphabetically, each queue in its own order.
  std::stable_sort(pending.begin(), pending.end(),
                   [](const Pending& a, const Pending& b) { return a.endpoint < b.endpoint; });
  return pending;
}

void FaultScript::Clear(absl::string_view channel_id) {
  absl::MutexLock lock(&mu_);
  queues_.erase(channel_id);
}

void FaultScript::Hold(absl::Duration hold, const absl::Notification* stopping) {
  const absl::Time until = absl::Now() + hold;
  absl::MutexLock lock(&mu_);
  const int64_t generation = release_generation_;
  ++held_;
  // Waking now and then to look at `stopping` (a Notification cannot be part of the condition)
  // lets the process exit promptly even while calls are held.
  std::pair<const int64_t*, int64_t> released(&release_generation_, generation);
  while (release_generation_ == generation && !stopping->HasBeenNotified() && absl::Now() < until) {
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](std::pair<const int64_t*, int64_t>* state) {
                               return *state->first != state->second;
                             },
                             &released),
                         std::min(absl::Milliseconds(100), until - absl::Now()));
  }
  --held_;
}

int64_t FaultScript::Release(int64_t wait_for, absl::Duration max_wait) {
  absl::MutexLock lock(&mu_);
  std::pair<const int64_t*, int64_t> enough(&held_, wait_for);
  mu_.AwaitWithTimeout(
      absl::Condition(
          +[](std::pair<const int64_t*, int64_t>* state) { return *state->first >= state->second; },
          &enough),
      max_wait);
  ++release_generation_;
  return held_;
}

}  // namespace linechannel::fake_line
