#include "server/http/connection_table.h"

#include <utility>

namespace linechannel::server {

ConnectionTable::List& ConnectionTable::ListFor(State state) {
  switch (state) {
    case State::kIncomplete:
      return incomplete_;
    case State::kIdle:
      return idle_;
    case State::kBusy:
      break;
  }
  return busy_;
}

std::unique_ptr<ConnectionTable::Handle> ConnectionTable::Add(std::weak_ptr<Connection> connection,
                                                              State state) {
  absl::MutexLock lock(&mu_);
  List& list = ListFor(state);
  list.push_back(Entry{std::move(connection), state});
  return std::make_unique<Handle>(this, std::prev(list.end()));
}

bool ConnectionTable::Set(Handle& handle, State state) {
  absl::MutexLock lock(&mu_);
  Entry& entry = *handle.entry_;
  if (entry.evicted) return false;
  List& to = ListFor(state);
  to.splice(to.end(), ListFor(entry.state), handle.entry_);
  entry.state = state;
  return true;
}

void ConnectionTable::Remove(List::iterator entry) {
  absl::MutexLock lock(&mu_);
  List& list = entry->evicted ? evicted_ : ListFor(entry->state);
  list.erase(entry);
}

ConnectionTable::Evicted ConnectionTable::EvictOne() {
  std::shared_ptr<Connection> victim;
  Evicted kind = Evicted::kNone;
  {
    absl::MutexLock lock(&mu_);
    for (List* list : {&idle_, &incomplete_}) {
      // An entry whose connection is already gone is about to be removed: pass over it.
      for (auto it = list->begin(); it != list->end() && victim == nullptr;) {
        const auto next = std::next(it);
        victim = it->connection.lock();
        if (victim != nullptr) {
          it->evicted = true;
          evicted_.splice(evicted_.end(), *list, it);
          kind = list == &idle_ ? Evicted::kIdle : Evicted::kIncomplete;
        }
        it = next;
      }
      if (victim != nullptr) break;
    }
  }
  // Outside the lock: closing may run the connection's own code, which uses the table.
  if (victim != nullptr) victim->Evict();
  return kind;
}

size_t ConnectionTable::open() const {
  absl::MutexLock lock(&mu_);
  return incomplete_.size() + idle_.size() + busy_.size();
}

}  // namespace linechannel::server
