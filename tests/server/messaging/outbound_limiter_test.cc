#include "server/messaging/outbound_limiter.h"

#include <optional>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/errors.h"
#include "server/messaging/push_identity.h"
#include "tests/server/fakes.h"

namespace linechannel::server {
namespace {

TEST(OutboundLimiterTest, EachBindingHasItsOwnRateAndBurst) {
  FakeClock clock;
  OutboundLimiter limiter(&clock, {/*per_second=*/10, /*burst=*/3, /*max_in_flight=*/100});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Acquire(1).ok());
  const absl::StatusOr<OutboundLimiter::Permit> refused = limiter.Acquire(1);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status()));
  EXPECT_EQ(ErrorReason(refused.status()), "OUTBOUND_RATE_LIMITED");
  EXPECT_EQ(RetryDelayOf(refused.status()), absl::Milliseconds(100));
  // Another binding is not held up by the busy one.
  EXPECT_TRUE(limiter.Acquire(2).ok());
  clock.Advance(absl::Milliseconds(100));
  EXPECT_TRUE(limiter.Acquire(1).ok());
  EXPECT_FALSE(limiter.Acquire(1).ok());
}

TEST(OutboundLimiterTest, CallsInFlightAreCappedUntilTheirPermitsReturn) {
  FakeClock clock;
  OutboundLimiter limiter(&clock, {/*per_second=*/0, /*burst=*/0, /*max_in_flight=*/2});
  std::vector<OutboundLimiter::Permit> held;
  held.push_back(*limiter.Acquire(7));
  held.push_back(*limiter.Acquire(7));
  const absl::StatusOr<OutboundLimiter::Permit> refused = limiter.Acquire(7);
  EXPECT_EQ(ErrorReason(refused.status()), "OUTBOUND_RATE_LIMITED");
  EXPECT_TRUE(limiter.Acquire(8).ok());
  held.pop_back();
  EXPECT_TRUE(limiter.Acquire(7).ok());
}

TEST(PushIdentityTest, RetryKeysAreUuidsFixedByBindingAndRequestId) {
  const std::string key = PushRetryKey("binding-1", "order-7");
  EXPECT_THAT(key, ::testing::MatchesRegex(
                       "[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  EXPECT_EQ(PushRetryKey("binding-1", "order-7"), key);
  EXPECT_NE(PushRetryKey("binding-2", "order-7"), key);
  EXPECT_NE(PushRetryKey("binding-1", "order-8"), key);
  EXPECT_NE(PushRetryKey("binding-1o", "rder-7"), key);
}

TEST(PushIdentityTest, DigestsTellDifferentPushesApart) {
  const std::string digest = PushDigest("U1", R"([{"type":"text","text":"a"}])", false);
  EXPECT_EQ(PushDigest("U1", R"([{"type":"text","text":"a"}])", false), digest);
  EXPECT_NE(PushDigest("U2", R"([{"type":"text","text":"a"}])", false), digest);
  EXPECT_NE(PushDigest("U1", R"([{"type":"text","text":"b"}])", false), digest);
  EXPECT_NE(PushDigest("U1", R"([{"type":"text","text":"a"}])", true), digest);
}

}  // namespace
}  // namespace linechannel::server
