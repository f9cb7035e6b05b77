#include "server/binding/key_rotation.h"

#include "absl/strings/str_cat.h"
#include "server/crypto/sealing_contexts.h"
#include "server/base/errors.h"

namespace linechannel::server {
namespace {

constexpr int kBatch = 100;

}  // namespace

KeyRotation::KeyRotation(std::string key_file, SecretSealer* sealer,
                         storage::SealedValueStore* store, RandomSource* random)
    : key_file_(std::move(key_file)), sealer_(sealer), store_(store), random_(random) {}

absl::StatusOr<std::vector<KeyRotation::KeyUsage>> KeyRotation::Usage() {
  absl::StatusOr<std::map<std::string, int64_t>> counts = store_->CountSealedByKey();
  if (!counts.ok()) return counts.status();
  const std::shared_ptr<const KeyRing> keys = sealer_->keys();
  std::vector<KeyUsage> usage;
  for (const std::string& id : keys->ids()) {
    const auto it = counts->find(id);
    usage.push_back({id, id == keys->current_id(), it == counts->end() ? 0 : it->second});
  }
  return usage;
}

absl::StatusOr<int64_t> KeyRotation::ResealAll() {
  const std::shared_ptr<const KeyRing> keys = sealer_->keys();
  int64_t resealed = 0;
  int64_t after = 0;
  while (true) {
    absl::StatusOr<std::vector<storage::SealedRow>> rows = store_->ListSealed(after, kBatch);
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return resealed;
    std::vector<storage::SealedValueStore::Reseal> batch;
    for (const storage::SealedRow& row : *rows) {
      after = row.row_id;
      for (const bool is_secret : {true, false}) {
        const storage::SealedValue& old_value = is_secret ? row.channel_secret : row.access_token;
        if (old_value.key_id == keys->current_id()) continue;
        const std::string context =
            is_secret ? SecretContext(row.channel_id) : TokenContext(row.channel_id);
        absl::StatusOr<Secret> plain = sealer_->Unseal(old_value, context);
        if (!plain.ok()) return plain.status();
        absl::StatusOr<storage::SealedValue> new_value = sealer_->Seal(*plain, context);
        if (!new_value.ok()) return new_value.status();
        batch.push_back({row.row_id, is_secret, old_value, *std::move(new_value)});
      }
    }
    if (batch.empty()) continue;
    absl::StatusOr<int> replaced = store_->ReplaceSealed(batch);
    if (!replaced.ok()) return replaced.status();
    resealed += *replaced;
  }
}

absl::StatusOr<KeyRotation::Rotated> KeyRotation::Rotate() {
  absl::MutexLock lock(&mu_);
  KeyRing keys = *sealer_->keys();
  const std::string new_id = keys.AddGenerated(*random_);
  if (absl::Status current = keys.MakeCurrent(new_id); !current.ok()) return current;
  // On disk before anything is sealed with it.
  if (absl::Status written = WriteKeyFile(key_file_, keys); !written.ok()) {
    return WithReason(
        absl::UnavailableError(absl::StrCat("could not write the key file: ", written.message())));
  }
  sealer_->ReplaceKeys(std::move(keys));
  absl::StatusOr<int64_t> resealed = ResealAll();
  if (!resealed.ok()) return WithReason(resealed.status());
  absl::StatusOr<std::vector<KeyUsage>> usage = Usage();
  if (!usage.ok()) return WithReason(usage.status());
  return Rotated{new_id, *resealed, *std::move(usage)};
}

absl::StatusOr<std::vector<KeyRotation::KeyUsage>> KeyRotation::Retire(const std::string& key_id) {
  absl::MutexLock lock(&mu_);
  KeyRing keys = *sealer_->keys();
  if (keys.Find(key_id) == nullptr) {
    return ReasonedError(absl::StatusCode::kNotFound, "KEY_NOT_FOUND",
                         absl::StrCat("there is no sealing key ", key_id));
  }
  if (key_id == keys.current_id()) {
    return ReasonedError(absl::StatusCode::kFailedPrecondition, "KEY_IS_CURRENT",
                         absl::StrCat("key ", key_id, " is current; rotate to a new key first"));
  }
  absl::StatusOr<std::map<std::string, int64_t>> counts = store_->CountSealedByKey();
  if (!counts.ok()) return WithReason(counts.status());
  if (const auto it = counts->find(key_id); it != counts->end() && it->second > 0) {
    return ReasonedError(absl::StatusCode::kFailedPrecondition, "KEY_IN_USE",
                         absl::StrCat(it->second, " stored values are still sealed with key ",
                                      key_id, "; run RotateSealingKey first"));
  }
  if (absl::Status removed = keys.Remove(key_id); !removed.ok()) return WithReason(removed);
  if (absl::Status written = WriteKeyFile(key_file_, keys); !written.ok()) {
    return WithReason(
        absl::UnavailableError(absl::StrCat("could not write the key file: ", written.message())));
  }
  sealer_->ReplaceKeys(std::move(keys));
  absl::StatusOr<std::vector<KeyUsage>> usage = Usage();
  if (!usage.ok()) return WithReason(usage.status());
  return usage;
}

}  // namespace linechannel::server
