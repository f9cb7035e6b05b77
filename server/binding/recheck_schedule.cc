#include "server/binding/recheck_schedule.h"

#include <algorithm>
#include <cstdint>

namespace linechannel::server {
namespace {

// FNV-1a: fixed by definition, unlike absl::Hash (seeded per process), so every replica and
// every version computes the same place.
uint64_t StableHash(absl::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

absl::Duration RecheckOffset(absl::string_view binding_id, absl::Duration interval) {
  const int64_t period = absl::ToInt64Microseconds(interval);
  return absl::Microseconds(static_cast<int64_t>(StableHash(binding_id) % uint64_t(period)));
}

bool RecheckDueIn(absl::string_view binding_id, absl::Duration interval, absl::Time from,
                  absl::Time to) {
  if (to <= from) return false;
  if (to - from >= interval) return true;
  const int64_t period = absl::ToInt64Microseconds(interval);
  const int64_t offset = absl::ToInt64Microseconds(RecheckOffset(binding_id, interval));
  // The binding's last place at or before `to`.
  const int64_t place = FloorDiv(absl::ToUnixMicros(to) - offset, period) * period + offset;
  return absl::FromUnixMicros(place) > from;
}

absl::Duration NextUnverifiedWait(absl::Duration last, absl::Duration first, absl::Duration most) {
  return std::min(most, std::max(first, last * 2));
}

}  // namespace linechannel::server
