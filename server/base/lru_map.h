#ifndef LINECHANNEL_SERVER_BASE_LRU_MAP_H_
#define LINECHANNEL_SERVER_BASE_LRU_MAP_H_

#include <list>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace linechannel::server {

// A map that keeps at most `capacity` entries, dropping the least recently used. Not
// thread-safe: its owner locks.
template <typename Key, typename Value>
class LruMap {
 public:
  explicit LruMap(size_t capacity) : capacity_(capacity) {}

  // The value, marked as just used; nullopt if absent.
  std::optional<Value> Get(const Key& key) {
    const auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }

  void Put(const Key& key, Value value) {
    if (capacity_ == 0) return;
    if (const auto it = index_.find(key); it != index_.end()) {
      it->second->second = std::move(value);
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.emplace_front(key, std::move(value));
    index_[key] = order_.begin();
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }

  void Erase(const Key& key) {
    if (const auto it = index_.find(key); it != index_.end()) {
      order_.erase(it->second);
      index_.erase(it);
    }
  }

  void Clear() {
    index_.clear();
    order_.clear();
  }

  size_t size() const { return order_.size(); }

 private:
  const size_t capacity_;
  std::list<std::pair<Key, Value>> order_;
  absl::flat_hash_map<Key, typename std::list<std::pair<Key, Value>>::iterator> index_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BASE_LRU_MAP_H_
