#include "server/binding/binding_cache.h"

#include "absl/strings/str_cat.h"

namespace linechannel::server {

BindingCache::BindingCache(size_t capacity) : bindings_(capacity), targets_(capacity) {}

std::string BindingCache::BindingKey(absl::string_view team_id, absl::string_view channel_id) {
  // Team ids never contain '\n' (request validation), so the pair cannot be ambiguous.
  return absl::StrCat(team_id, "\n", channel_id);
}

uint64_t BindingCache::epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

std::optional<storage::Binding> BindingCache::FindBinding(absl::string_view team_id,
                                                          absl::string_view channel_id) {
  absl::MutexLock lock(&mu_);
  return bindings_.Get(BindingKey(team_id, channel_id));
}

void BindingCache::PutBinding(const storage::Binding& binding, uint64_t epoch_before_read) {
  if (!binding.active()) return;
  absl::MutexLock lock(&mu_);
  if (epoch_ != epoch_before_read) return;
  bindings_.Put(BindingKey(binding.team_id, binding.channel_id), binding);
}

std::optional<WebhookTarget> BindingCache::FindTarget(absl::string_view webhook_key) {
  absl::MutexLock lock(&mu_);
  return targets_.Get(std::string(webhook_key));
}

void BindingCache::PutTarget(absl::string_view webhook_key, const WebhookTarget& target,
                             uint64_t epoch_before_read) {
  absl::MutexLock lock(&mu_);
  if (epoch_ != epoch_before_read) return;
  targets_.Put(std::string(webhook_key), target);
}

void BindingCache::Forget(absl::string_view team_id, absl::string_view channel_id,
                          absl::string_view webhook_key) {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  bindings_.Erase(BindingKey(team_id, channel_id));
  targets_.Erase(std::string(webhook_key));
}

void BindingCache::Clear() {
  absl::MutexLock lock(&mu_);
  ++epoch_;
  bindings_.Clear();
  targets_.Clear();
}

}  // namespace linechannel::server
