#ifndef LINECHANNEL_STORAGE_CACHE_CACHING_STORE_H_
#define LINECHANNEL_STORAGE_CACHE_CACHING_STORE_H_

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/synchronization/mutex.h"
#include "storage/store.h"

namespace linechannel::storage {

// Recently read active bindings in memory, in front of another store, so that the reads every
// RPC and every webhook request make (FindActive, FindActiveByWebhookKey) do not touch the
// database. It is itself the bindings, sealed-value, check and event roles: reads pass through
// to the inner store (and fill the cache), and every write that can change a cached binding
// drops it once the inner store has answered, so no caller has to remember to. The job
// schedule and the push outbox are the inner store's own (roles().jobs, roles().pushes).
//
// A cached binding also keeps its last check record (LastCheckRecord's answer, a record or
// none) once something has asked for it, so that GetChannel, which reads both, touches no
// database either. The webhook path never asks, so its cached bindings carry no record.
//
// What each write drops (after the inner call returns, whatever its status: a failed commit
// may still have happened, and dropping too much only costs a read):
//   InsertActive                  anything cached under the new binding's team and channel or
//                                 webhook key (stale copies of another process's bindings)
//   MarkUnbound                   the team's binding of the channel
//   ReplaceCredentials,
//   SetAttention, RecordProof     binding `row_id`
//   ReplaceSealed                 every binding named in the reseals
//   RecordTrouble                 the binding (its health changes)
//   SaveCheckRecord               the binding (with its check record)
//   AppendEvents with a bot      the binding (its suspension may change)
//     status change
//   AppendEvents (stored)         nothing: the cached binding's last signed request moves
//                                 forward in place, as the store moves it, so the webhook
//                                 path keeps its cached binding
//
// A read that misses and races a write never caches what it read from before the write: the
// cache keeps one generation counter, bumped by every write above (AppendEvents included); a
// missed read notes it before asking the inner store and caches the answer only if it has
// not moved since. One counter rather than one per binding, because a missed read does not
// know which binding (row id) it is about to read: it may cost a racing read its insertion,
// never correctness, and misses are rare once the hot bindings are cached.
//
// A missed LastCheckRecord caches its answer under the same rule, and only into a binding
// that is cached by then.
//
// Other processes writing the same database (several servers on one PostgreSQL) cannot be
// seen here: whoever learns of their changes calls InvalidateBinding or InvalidateAll (a
// store shared by several processes must announce a saved check record as a change of its
// binding).
//
// Holds at most `capacity` bindings, dropping the least recently used; 0 caches nothing (every
// read goes to the inner store). Thread-safe. The inner roles must outlive this object, and
// this object must outlive the inner store's pending callbacks (destroy the inner store
// first: it finishes or fails its pending writes).
class CachingStore : public BindingStore,
                     public SealedValueStore,
                     public CheckStore,
                     public EventStore {
 public:
  // `inner.bindings`, `inner.sealed`, `inner.checks` and `inner.events` are wrapped;
  // `inner.jobs` and `inner.pushes` are handed on.
  CachingStore(Store inner, size_t capacity);

  // The roles as callers should use them: bindings, sealed values, checks and events through
  // this cache, jobs and pushes straight to the inner store.
  Store roles();

  // Drops binding `row_id`, changed by someone else; the next read of it asks the inner store.
  // Like every write, it also keeps a read under way (which may have read the binding before
  // the change) from caching its answer, so it may be called whenever the news arrives.
  void InvalidateBinding(int64_t row_id);
  // Drops every binding (another process changed an unknown set, or notifications were lost),
  // with the same effect on reads under way.
  void InvalidateAll();

  // How many bindings are cached now.
  size_t size() const;

  // BindingStore.
  absl::StatusOr<Binding> InsertActive(const Binding& binding, const Change& change,
                                       Binding* conflict) override;
  absl::StatusOr<Binding> FindActive(absl::string_view team_id,
                                     absl::string_view channel_id) override;
  // Asks the inner store, and drops the cached copy (the next FindActive reads it again): the
  // copy may predate another process's change whose news has not arrived yet.
  absl::StatusOr<Binding> FindActiveNow(absl::string_view team_id,
                                        absl::string_view channel_id) override;
  absl::StatusOr<Binding> FindActiveByWebhookKey(absl::string_view webhook_key) override;
  absl::StatusOr<BindingPage> ListTeam(absl::string_view team_id, bool include_unbound,
                                       int64_t after_row_id, int limit) override;
  absl::StatusOr<Binding> MarkUnbound(absl::string_view team_id, absl::string_view channel_id,
                                      const Change& change) override;
  absl::StatusOr<Binding> ReplaceCredentials(int64_t row_id, const CredentialUpdate& update,
                                             const Change& change) override;
  absl::StatusOr<std::vector<AuditRecord>> ListAudit(int64_t row_id) override;
  absl::StatusOr<AuditPage> ListTeamAudit(absl::string_view team_id, absl::string_view channel_id,
                                          int64_t before_id, int limit) override;
  absl::Status SetAttention(int64_t row_id, const std::vector<std::string>& reasons,
                            absl::Time checked_at) override;
  absl::StatusOr<Binding> RecordProof(int64_t row_id, const Proof& proof, const Change& change,
                                      Binding* conflict) override;
  absl::StatusOr<std::vector<Binding>> ListActive(int64_t after_row_id, int limit) override;

  // SealedValueStore.
  absl::StatusOr<std::vector<SealedSample>> SampleSealedValues() override;
  absl::StatusOr<std::vector<SealedRow>> ListSealed(int64_t after_row_id, int limit) override;
  absl::StatusOr<int> ReplaceSealed(const std::vector<Reseal>& reseals) override;
  absl::StatusOr<std::map<std::string, int64_t>> CountSealedByKey() override;

  // CheckStore.
  absl::Status SaveCheckRecord(int64_t row_id, const CheckRecord& record) override;
  absl::StatusOr<CheckRecord> LastCheckRecord(int64_t row_id) override;
  absl::StatusOr<bool> TakeLineTestCall(absl::string_view channel_id, absl::Time at,
                                        absl::Duration window, int limit) override;

  // EventStore.
  void AppendEvents(EventBatch batch, AppendDone done) override;
  absl::StatusOr<std::vector<StoredEvent>> ReadEvents(const EventQuery& query) override;
  void RecordTrouble(int64_t binding_row_id, WebhookTrouble trouble, absl::Time at,
                     std::function<void(absl::Status)> done) override;
  absl::StatusOr<WebhookActivity> ReadActivity(int64_t binding_row_id) override;
  absl::StatusOr<int> DeleteEventsReceivedBefore(absl::Time cutoff, int limit) override;

 private:
  // Shared and immutable, so that a hit only takes a reference under the lock and copies the
  // binding (a dozen strings) after releasing it: every RPC and webhook request finds one.
  struct Entry {
    std::shared_ptr<const Binding> binding;
    // The binding's last signed request, moved forward in place as AppendEvents stores
    // requests (`binding` keeps the one it was read with).
    std::optional<absl::Time> last_signed_request;
    // Whether `check` holds LastCheckRecord's answer for the binding: its record, or null for
    // none.
    bool check_known = false;
    std::shared_ptr<const CheckRecord> check;
  };
  using Entries = std::list<Entry>;
  using Index = absl::flat_hash_map<std::string, int64_t>;
  enum class By { kTeamChannel, kWebhookKey };

  // The cached binding under `key`, made most recently used; otherwise reads it with `read`
  // and caches an active answer unless something was dropped meanwhile.
  absl::StatusOr<Binding> Find(By by, const std::string& key,
                               absl::FunctionRef<absl::StatusOr<Binding>()> read);
  // Bumps the generation and erases binding `row_id`, if cached.
  void Drop(int64_t row_id);
  // Bumps the generation and moves the cached binding's last signed request to `received_at`
  // if that is later, as the inner store did.
  void SignedRequestStored(int64_t row_id, absl::Time received_at);
  Index& IndexOf(By by) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Insert(const Binding& binding) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Erase(int64_t row_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Erases the binding cached under `key`, if any.
  void EraseByKey(By by, const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static std::string TeamChannelKey(absl::string_view team_id, absl::string_view channel_id);

  const Store inner_;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  // Most recently used first.
  Entries entries_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int64_t, Entries::iterator> by_row_ ABSL_GUARDED_BY(mu_);
  // Row ids by team and channel, and by webhook key.
  Index by_team_channel_ ABSL_GUARDED_BY(mu_);
  Index by_webhook_key_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_CACHE_CACHING_STORE_H_
