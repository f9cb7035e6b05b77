#ifndef LINECHANNEL_STORAGE_SEALED_VALUE_STORE_H_
#define LINECHANNEL_STORAGE_SEALED_VALUE_STORE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/binding.h"

namespace linechannel::storage {

// The bindings' sealed values (secrets and tokens) as key rotation and the start-up key check
// see them: one of the store's roles (store.h). Status conventions as in binding_store.h.
// Implementations are thread-safe.
class SealedValueStore {
 public:
  virtual ~SealedValueStore() = default;

  // One sealed value for each distinct key id that stored bindings (active or not) use.
  virtual absl::StatusOr<std::vector<SealedSample>> SampleSealedValues() = 0;

  // Up to `limit` bindings (active or not) with row ids above `after_row_id`, in row order,
  // with their sealed values.
  virtual absl::StatusOr<std::vector<SealedRow>> ListSealed(int64_t after_row_id, int limit) = 0;

  // Replaces each of `reseals`' sealed values with the new one, in one transaction, but only
  // where the stored value is still the `old_value` (a credential update meanwhile wins).
  // Returns how many values were replaced.
  struct Reseal {
    int64_t row_id = 0;
    bool is_secret = true;  // channel_secret, or access_token.
    SealedValue old_value;
    SealedValue new_value;
  };
  virtual absl::StatusOr<int> ReplaceSealed(const std::vector<Reseal>& reseals) = 0;

  // How many stored values (secrets and tokens of all bindings) each key id seals.
  virtual absl::StatusOr<std::map<std::string, int64_t>> CountSealedByKey() = 0;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SEALED_VALUE_STORE_H_
