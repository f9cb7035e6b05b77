#ifndef LINECHANNEL_SERVER_WEBHOOK_WEBHOOK_RECEIVER_H_
#define LINECHANNEL_SERVER_WEBHOOK_WEBHOOK_RECEIVER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/base/clock.h"
#include "server/base/lru_map.h"
#include "server/webhook/event_notifier.h"
#include "server/crypto/secret.h"
#include "server/crypto/secret_sealer.h"
#include "server/webhook/webhook_target.h"
#include "storage/binding_store.h"
#include "storage/event_store.h"

namespace linechannel::server {

// What a webhook request gets, in the order of DESIGN.md "The webhook endpoint": the binding
// by key, then (after the HTTP layer bounded and read the body) the signature over the raw
// bytes, the body's shape, the destination, and the durable store. HTTP status codes are this
// class's answer; it knows nothing of sockets. Thread-safe.
class WebhookReceiver {
 public:
  // The binding a webhook URL names, with what checking a request needs.
  using Target = WebhookTarget;

  // The answer to one request.
  struct Outcome {
    int http_status = 0;
    // For people (the response body and the log); never secrets.
    std::string message;
    int stored = 0;
    int duplicates = 0;
  };

  // Keeps the unsealed channel secrets of up to `secret_memo_size` bindings (0: unseals for
  // every request).
  WebhookReceiver(storage::BindingStore* bindings, storage::EventStore* events,
                  const SecretSealer* sealer, const Clock* clock, EventNotifier* notifier,
                  size_t secret_memo_size);

  // The active binding of `webhook_key`. NOT_FOUND (answer 404) for a key that was never
  // bound or is unbound; UNAVAILABLE (503) when storage cannot answer. The binding is read
  // from `bindings` on every call (a caching store keeps that cheap and current); its channel
  // secret is unsealed once per sealed value.
  absl::StatusOr<Target> Resolve(absl::string_view webhook_key);

  // Checks and stores one request's body for `target`. `signature` is the x-line-signature
  // header, if any. `done` runs exactly once, possibly on a storage thread, with 200 only
  // after every event is durably stored (or was already); 401 bad or missing signature,
  // 400 not LINE's body, 403 another bot's destination, 503 storage failure: nothing stored.
  void Receive(const Target& target, std::optional<absl::string_view> signature, std::string body,
               std::function<void(Outcome)> done);

 private:
  // Records a trouble in the store at most once per binding and kind every few seconds, so a
  // flood of bad requests cannot become a flood of writes; then answers with `outcome`. A
  // recorded trouble is answered only once it is stored, so whoever reads the binding's
  // activity after seeing the answer (VerifyWebhook) finds it.
  void RecordTroubleThenAnswer(const Target& target, storage::WebhookTrouble trouble,
                               Outcome outcome, std::function<void(Outcome)> done);

  // The binding's channel secret, from the memo or unsealed (and memoised).
  absl::StatusOr<Secret> ChannelSecret(const storage::Binding& binding);

  storage::BindingStore* const bindings_;
  storage::EventStore* const events_;
  const SecretSealer* const sealer_;
  const Clock* const clock_;
  EventNotifier* const notifier_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::pair<int64_t, int>, absl::Time> last_recorded_ ABSL_GUARDED_BY(mu_);
  // Unsealed channel secrets by what unsealing depends on (sealed value, its key, the channel).
  // A new secret or a re-sealing changes the sealed value, so an entry is never stale; entries
  // no binding has any more just age out.
  absl::Mutex memo_mu_;
  LruMap<std::string, Secret> secrets_ ABSL_GUARDED_BY(memo_mu_);
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_WEBHOOK_WEBHOOK_RECEIVER_H_
