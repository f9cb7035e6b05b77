#ifndef LINECHANNEL_SERVER_BINDING_BINDING_CACHE_H_
#define LINECHANNEL_SERVER_BINDING_BINDING_CACHE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/base/lru_map.h"
#include "server/crypto/secret.h"
#include "storage/binding.h"

namespace linechannel::server {

// What the webhook endpoint needs to check a request for a binding.
struct WebhookTarget {
  int64_t row_id = 0;
  std::string binding_id;
  std::string team_id;
  std::string channel_id;
  std::string webhook_key;
  // Empty for bindings made with LINE checks off: the destination cannot be checked.
  std::string bot_user_id;
  Secret channel_secret;
  // The binding had an unresolved webhook trouble when this was read, so its health changes
  // with the next good request.
  bool troubled = false;
};

// Recently used active bindings in memory, so that reads of hot bindings (GetChannel,
// GetWebhookUrl, the webhook endpoint's key lookup) do not touch the database. Correct while
// this process is the store's only writer (the embedded SQLite store): every change to a
// binding goes through code that calls Forget() (or Clear()) after its commit. A reader that
// missed records epoch() before reading the store and passes it to Put, which then stores
// nothing if anything was forgotten meanwhile, so an old read can never overwrite a change.
// A capacity of 0 turns the cache off. Thread-safe.
class BindingCache {
 public:
  explicit BindingCache(size_t capacity);

  uint64_t epoch() const;

  std::optional<storage::Binding> FindBinding(absl::string_view team_id,
                                              absl::string_view channel_id);
  void PutBinding(const storage::Binding& binding, uint64_t epoch_before_read);

  std::optional<WebhookTarget> FindTarget(absl::string_view webhook_key);
  void PutTarget(absl::string_view webhook_key, const WebhookTarget& target,
                 uint64_t epoch_before_read);

  // Drops everything known about the binding (by team and channel, and by webhook key).
  void Forget(absl::string_view team_id, absl::string_view channel_id,
              absl::string_view webhook_key);
  void Clear();

 private:
  static std::string BindingKey(absl::string_view team_id, absl::string_view channel_id);

  mutable absl::Mutex mu_;
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  LruMap<std::string, storage::Binding> bindings_ ABSL_GUARDED_BY(mu_);
  LruMap<std::string, WebhookTarget> targets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_BINDING_CACHE_H_
