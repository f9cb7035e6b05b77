#ifndef LINECHANNEL_STORAGE_CHECK_STORE_H_
#define LINECHANNEL_STORAGE_CHECK_STORE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/binding.h"

namespace linechannel::storage {

// VerifyWebhook's kept answers and LINE's test-call quota: one of the store's roles (store.h).
// Neither changes a binding as BindingStore reads it. Status conventions as in
// binding_store.h. Implementations are thread-safe.
class CheckStore {
 public:
  virtual ~CheckStore() = default;

  // Keeps `record`, VerifyWebhook's answer at `record.checked_at`, as binding `row_id`'s last
  // one, replacing any earlier one.
  virtual absl::Status SaveCheckRecord(int64_t row_id, const CheckRecord& record) = 0;

  // The last kept answer; NOT_FOUND if there is none.
  virtual absl::StatusOr<CheckRecord> LastCheckRecord(int64_t row_id) = 0;

  // Takes one of LINE's test-webhook calls for `channel_id` at `at`, if fewer than `limit`
  // were taken since `at - window`; returns whether it was taken. Calls older than the window
  // are forgotten. Atomic, so concurrent callers never exceed the limit together.
  virtual absl::StatusOr<bool> TakeLineTestCall(absl::string_view channel_id, absl::Time at,
                                                absl::Duration window, int limit) = 0;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_CHECK_STORE_H_
