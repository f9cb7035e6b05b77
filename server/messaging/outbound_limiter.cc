#include "server/messaging/outbound_limiter.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "server/base/errors.h"

namespace linechannel::server {

OutboundLimiter::Permit::~Permit() {
  if (limiter_ != nullptr) limiter_->Release(row_id_);
}

OutboundLimiter::OutboundLimiter(const Clock* clock, Options options)
    : clock_(clock), options_(options), forgot_at_(clock->Now()) {}

absl::StatusOr<OutboundLimiter::Permit> OutboundLimiter::Acquire(int64_t row_id) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  if (now - forgot_at_ > absl::Seconds(60)) ForgetIdle(now);
  auto [it, inserted] = buckets_.try_emplace(row_id);
  Bucket& bucket = it->second;
  if (inserted) {
    bucket.tokens = options_.burst;
    bucket.refilled_at = now;
  }
  if (bucket.in_flight >= options_.max_in_flight) {
    return WithRetryDelay(
        ReasonedError(absl::StatusCode::kResourceExhausted, reason::kOutboundRateLimited,
                      absl::StrCat("this channel already has ", bucket.in_flight,
                                   " calls to LINE in flight; retry shortly")),
        absl::Seconds(1));
  }
  if (options_.per_second > 0) {
    const double elapsed = absl::ToDoubleSeconds(now - bucket.refilled_at);
    bucket.tokens = std::min<double>(options_.burst, bucket.tokens + elapsed * options_.per_second);
    bucket.refilled_at = now;
    if (bucket.tokens < 1) {
      const absl::Duration wait =
          absl::Milliseconds(std::ceil((1 - bucket.tokens) / options_.per_second * 1000));
      return WithRetryDelay(
          ReasonedError(
              absl::StatusCode::kResourceExhausted, reason::kOutboundRateLimited,
              absl::StrCat("this channel's share of calls to LINE (", options_.per_second,
                           " per second) is used up; retry in ", absl::FormatDuration(wait))),
          wait);
    }
    bucket.tokens -= 1;
  }
  ++bucket.in_flight;
  return Permit(this, row_id);
}

void OutboundLimiter::Release(int64_t row_id) {
  absl::MutexLock lock(&mu_);
  auto it = buckets_.find(row_id);
  if (it != buckets_.end()) --it->second.in_flight;
}

void OutboundLimiter::ForgetIdle(absl::Time now) {
  forgot_at_ = now;
  const absl::Duration refill = options_.per_second > 0
                                    ? absl::Seconds(options_.burst / options_.per_second)
                                    : absl::ZeroDuration();
  absl::erase_if(buckets_, [&](const auto& entry) {
    return entry.second.in_flight == 0 && now - entry.second.refilled_at >= refill;
  });
}

}  // namespace linechannel::server
