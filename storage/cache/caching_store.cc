#include "storage/cache/caching_store.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"

namespace linechannel::storage {

CachingStore::CachingStore(Store inner, size_t capacity) : inner_(inner), capacity_(capacity) {}

Store CachingStore::roles() {
  return Store{this, this, this, this, inner_.jobs, inner_.pushes};
}

std::string CachingStore::TeamChannelKey(absl::string_view team_id, absl::string_view channel_id) {
  // Length-prefixed, so no team id can make two pairs one key.
  return absl::StrCat(team_id.size(), ":", team_id, channel_id);
}

CachingStore::Index& CachingStore::IndexOf(By by) {
  return by == By::kTeamChannel ? by_team_channel_ : by_webhook_key_;
}

void CachingStore::Insert(const Binding& binding) {
  Erase(binding.row_id);
  const std::string team_channel = TeamChannelKey(binding.team_id, binding.channel_id);
  // Only an inconsistent read could put another binding under the same keys; keep the
  // indexes exact anyway.
  EraseByKey(By::kTeamChannel, team_channel);
  EraseByKey(By::kWebhookKey, binding.webhook_key);
  entries_.push_front(
      Entry{std::make_shared<const Binding>(binding), binding.activity.last_signed_request});
  by_row_[binding.row_id] = entries_.begin();
  by_team_channel_[team_channel] = binding.row_id;
  by_webhook_key_[binding.webhook_key] = binding.row_id;
  while (entries_.size() > capacity_) Erase(entries_.back().binding->row_id);
}

void CachingStore::Erase(int64_t row_id) {
  const auto it = by_row_.find(row_id);
  if (it == by_row_.end()) return;
  const Binding& binding = *it->second->binding;
  by_team_channel_.erase(TeamChannelKey(binding.team_id, binding.channel_id));
  by_webhook_key_.erase(binding.webhook_key);
  entries_.erase(it->second);
  by_row_.erase(it);
}

void CachingStore::EraseByKey(By by, const std::string& key) {
  const Index& index = IndexOf(by);
  if (const auto it = index.find(key); it != index.end()) Erase(it->second);
}

void CachingStore::Drop(int64_t row_id) {
  absl::MutexLock lock(&mu_);
  ++generation_;
  Erase(row_id);
}

void CachingStore::InvalidateBinding(int64_t row_id) { Drop(row_id); }

void CachingStore::InvalidateAll() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  entries_.clear();
  by_row_.clear();
  by_team_channel_.clear();
  by_webhook_key_.clear();
}

size_t CachingStore::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

absl::StatusOr<Binding> CachingStore::Find(By by, const std::string& key,
                                           absl::FunctionRef<absl::StatusOr<Binding>()> read) {
  uint64_t generation = 0;
  std::shared_ptr<const Binding> cached;
  std::optional<absl::Time> last_signed_request;
  {
    absl::MutexLock lock(&mu_);
    const Index& index = IndexOf(by);
    if (const auto it = index.find(key); it != index.end()) {
      const Entries::iterator entry = by_row_.at(it->second);
      entries_.splice(entries_.begin(), entries_, entry);
      cached = entry->binding;
      last_signed_request = entry->last_signed_request;
    }
    generation = generation_;
  }
  if (cached != nullptr) {
    Binding binding = *cached;
    binding.activity.last_signed_request = last_signed_request;
    return binding;
  }
  absl::StatusOr<Binding> binding = read();
  if (binding.ok() && binding->active() && capacity_ > 0) {
    absl::MutexLock lock(&mu_);
    if (generation_ == generation) Insert(*binding);
  }
  return binding;
}

absl::StatusOr<Binding> CachingStore::FindActive(absl::string_view team_id,
                                                 absl::string_view channel_id) {
  return Find(By::kTeamChannel, TeamChannelKey(team_id, channel_id),
              [&] { return inner_.bindings->FindActive(team_id, channel_id); });
}

absl::StatusOr<Binding> CachingStore::FindActiveNow(absl::string_view team_id,
                                                    absl::string_view channel_id) {
  absl::StatusOr<Binding> found = inner_.bindings->FindActive(team_id, channel_id);
  absl::MutexLock lock(&mu_);
  ++generation_;
  EraseByKey(By::kTeamChannel, TeamChannelKey(team_id, channel_id));
  return found;
}

absl::StatusOr<Binding> CachingStore::FindActiveByWebhookKey(absl::string_view webhook_key) {
  return Find(By::kWebhookKey, std::string(webhook_key),
              [&] { return inner_.bindings->FindActiveByWebhookKey(webhook_key); });
}

absl::StatusOr<Binding> CachingStore::InsertActive(const Binding& binding, const Change& change,
                                                   Binding* conflict) {
  absl::StatusOr<Binding> inserted = inner_.bindings->InsertActive(binding, change, conflict);
  absl::MutexLock lock(&mu_);
  ++generation_;
  EraseByKey(By::kTeamChannel, TeamChannelKey(binding.team_id, binding.channel_id));
  EraseByKey(By::kWebhookKey, binding.webhook_key);
  return inserted;
}

absl::StatusOr<Binding> CachingStore::MarkUnbound(absl::string_view team_id,
                                                  absl::string_view channel_id,
                                                  const Change& change) {
  absl::StatusOr<Binding> unbound = inner_.bindings->MarkUnbound(team_id, channel_id, change);
  absl::MutexLock lock(&mu_);
  ++generation_;
  EraseByKey(By::kTeamChannel, TeamChannelKey(team_id, channel_id));
  if (unbound.ok()) Erase(unbound->row_id);
  return unbound;
}

absl::StatusOr<Binding> CachingStore::ReplaceCredentials(int64_t row_id,
                                                         const CredentialUpdate& update,
                                                         const Change& change) {
  absl::StatusOr<Binding> updated = inner_.bindings->ReplaceCredentials(row_id, update, change);
  Drop(row_id);
  return updated;
}

absl::Status CachingStore::SetAttention(int64_t row_id, const std::vector<std::string>& reasons,
                                        absl::Time checked_at) {
  absl::Status set = inner_.bindings->SetAttention(row_id, reasons, checked_at);
  Drop(row_id);
  return set;
}

absl::StatusOr<Binding> CachingStore::RecordProof(int64_t row_id, const Proof& proof,
                                                  const Change& change, Binding* conflict) {
  absl::StatusOr<Binding> proved = inner_.bindings->RecordProof(row_id, proof, change, conflict);
  Drop(row_id);
  return proved;
}

absl::StatusOr<BindingPage> CachingStore::ListTeam(absl::string_view team_id, bool include_unbound,
                                                   int64_t after_row_id, int limit) {
  return inner_.bindings->ListTeam(team_id, include_unbound, after_row_id, limit);
}

absl::StatusOr<std::vector<AuditRecord>> CachingStore::ListAudit(int64_t row_id) {
  return inner_.bindings->ListAudit(row_id);
}

absl::StatusOr<AuditPage> CachingStore::ListTeamAudit(absl::string_view team_id,
                                                      absl::string_view channel_id,
                                                      int64_t before_id, int limit) {
  return inner_.bindings->ListTeamAudit(team_id, channel_id, before_id, limit);
}

absl::StatusOr<std::vector<Binding>> CachingStore::ListActive(int64_t after_row_id, int limit) {
  return inner_.bindings->ListActive(after_row_id, limit);
}

absl::StatusOr<std::vector<SealedSample>> CachingStore::SampleSealedValues() {
  return inner_.sealed->SampleSealedValues();
}

absl::StatusOr<std::vector<SealedRow>> CachingStore::ListSealed(int64_t after_row_id, int limit) {
  return inner_.sealed->ListSealed(after_row_id, limit);
}

absl::StatusOr<int> CachingStore::ReplaceSealed(const std::vector<Reseal>& reseals) {
  absl::StatusOr<int> replaced = inner_.sealed->ReplaceSealed(reseals);
  absl::MutexLock lock(&mu_);
  ++generation_;
  for (const Reseal& reseal : reseals) Erase(reseal.row_id);
  return replaced;
}

absl::StatusOr<std::map<std::string, int64_t>> CachingStore::CountSealedByKey() {
  return inner_.sealed->CountSealedByKey();
}

absl::Status CachingStore::SaveCheckRecord(int64_t row_id, const CheckRecord& record) {
  absl::Status saved = inner_.checks->SaveCheckRecord(row_id, record);
  Drop(row_id);
  return saved;
}

absl::StatusOr<CheckRecord> CachingStore::LastCheckRecord(int64_t row_id) {
  uint64_t generation = 0;
  bool known = false;
  std::shared_ptr<const CheckRecord> cached;
  {
    absl::MutexLock lock(&mu_);
    if (const auto it = by_row_.find(row_id); it != by_row_.end() && it->second->check_known) {
      known = true;
      cached = it->second->check;
    }
    generation = generation_;
  }
  if (known) {
    if (cached == nullptr) return absl::NotFoundError("no check result");
    return *cached;
  }
  absl::StatusOr<CheckRecord> record = inner_.checks->LastCheckRecord(row_id);
  // Other errors say nothing about the record: the next read asks again.
  if (record.ok() || absl::IsNotFound(record.status())) {
    absl::MutexLock lock(&mu_);
    const auto it = by_row_.find(row_id);
    if (generation_ == generation && it != by_row_.end()) {
      it->second->check_known = true;
      it->second->check = record.ok() ? std::make_shared<const CheckRecord>(*record) : nullptr;
    }
  }
  return record;
}

absl::StatusOr<bool> CachingStore::TakeLineTestCall(absl::string_view channel_id, absl::Time at,
                                                    absl::Duration window, int limit) {
  return inner_.checks->TakeLineTestCall(channel_id, at, window, limit);
}

void CachingStore::AppendEvents(EventBatch batch, AppendDone done) {
  const int64_t row_id = batch.binding_row_id;
  const absl::Time received_at = batch.received_at;
  const bool bot_status = batch.bot_status.has_value();
  inner_.events->AppendEvents(std::move(batch),
                              [this, row_id, received_at, bot_status,
                               done = std::move(done)](absl::StatusOr<AppendResult> result) {
                                if (bot_status) {
                                  Drop(row_id);
                                } else if (result.ok()) {
                                  SignedRequestStored(row_id, received_at);
                                }
                                done(std::move(result));
                              });
}

void CachingStore::SignedRequestStored(int64_t row_id, absl::Time received_at) {
  absl::MutexLock lock(&mu_);
  // A missed read of this binding may be under way with the activity from before.
  ++generation_;
  if (const auto it = by_row_.find(row_id); it != by_row_.end()) {
    std::optional<absl::Time>& last = it->second->last_signed_request;
    if (!last.has_value() || *last < received_at) last = received_at;
  }
}

void CachingStore::RecordTrouble(int64_t binding_row_id, WebhookTrouble trouble, absl::Time at,
                                 std::function<void(absl::Status)> done) {
  inner_.events->RecordTrouble(binding_row_id, trouble, at,
                               [this, binding_row_id, done = std::move(done)](absl::Status s) {
                                 Drop(binding_row_id);
                                 done(std::move(s));
                               });
}

absl::StatusOr<std::vector<StoredEvent>> CachingStore::ReadEvents(const EventQuery& query) {
  return inner_.events->ReadEvents(query);
}

absl::StatusOr<WebhookActivity> CachingStore::ReadActivity(int64_t binding_row_id) {
  return inner_.events->ReadActivity(binding_row_id);
}

absl::StatusOr<int> CachingStore::DeleteEventsReceivedBefore(absl::Time cutoff, int limit) {
  return inner_.events->DeleteEventsReceivedBefore(cutoff, limit);
}

}  // namespace linechannel::storage
