#include "server/webhook/event_notifier.h"

#include <algorithm>

namespace linechannel::server {

int EventNotifier::Subscribe(Listener listener) {
  absl::MutexLock lock(&mu_);
  const int id = next_id_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void EventNotifier::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  for (auto& [id, listener] : listeners_) listener(true);
}

void EventNotifier::Unsubscribe(int id) {
  // Listeners run under the lock, so once this returns none of them is running.
  absl::MutexLock lock(&mu_);
  listeners_.erase(id);
}

void EventNotifier::Publish(int64_t cursor) {
  absl::MutexLock lock(&mu_);
  last_cursor_ = std::max(last_cursor_, cursor);
  for (auto& [id, listener] : listeners_) listener(false);
}

bool EventNotifier::closed() const {
  absl::MutexLock lock(&mu_);
  return closed_;
}

int64_t EventNotifier::last_cursor() const {
  absl::MutexLock lock(&mu_);
  return last_cursor_;
}

}  // namespace linechannel::server
