#include "server/binding/binding_cache.h"

#include "gtest/gtest.h"

namespace linechannel::server {
namespace {

storage::Binding Active(const std::string& team, const std::string& channel) {
  storage::Binding b;
  b.team_id = team;
  b.channel_id = channel;
  b.webhook_key = "key-" + channel;
  b.app_name = "v1";
  return b;
}

TEST(BindingCacheTest, KeepsWhatWasPutAndDropsWhatIsForgotten) {
  BindingCache cache(10);
  cache.PutBinding(Active("t", "1"), cache.epoch());
  WebhookTarget target;
  target.team_id = "t";
  target.channel_id = "1";
  cache.PutTarget("key-1", target, cache.epoch());
  ASSERT_TRUE(cache.FindBinding("t", "1").has_value());
  ASSERT_TRUE(cache.FindTarget("key-1").has_value());
  EXPECT_FALSE(cache.FindBinding("other-team", "1").has_value());
  cache.Forget("t", "1", "key-1");
  EXPECT_FALSE(cache.FindBinding("t", "1").has_value());
  EXPECT_FALSE(cache.FindTarget("key-1").has_value());
}

TEST(BindingCacheTest, AReadStartedBeforeAChangeIsNeverCached) {
  BindingCache cache(10);
  // A reader notes the epoch, then reads the store; meanwhile a writer commits and forgets.
  const uint64_t before_read = cache.epoch();
  storage::Binding old_read = Active("t", "1");
  cache.Forget("t", "1", "key-1");
  cache.PutBinding(old_read, before_read);
  EXPECT_FALSE(cache.FindBinding("t", "1").has_value());
  // A read started after the change is cached.
  const uint64_t after = cache.epoch();
  storage::Binding fresh = Active("t", "1");
  fresh.app_name = "v2";
  cache.PutBinding(fresh, after);
  ASSERT_TRUE(cache.FindBinding("t", "1").has_value());
  EXPECT_EQ(cache.FindBinding("t", "1")->app_name, "v2");
}

TEST(BindingCacheTest, UnboundBindingsAreNeverCached) {
  BindingCache cache(10);
  storage::Binding unbound = Active("t", "1");
  unbound.unbound_at = absl::Now();
  cache.PutBinding(unbound, cache.epoch());
  EXPECT_FALSE(cache.FindBinding("t", "1").has_value());
}

TEST(BindingCacheTest, HoldsAtMostItsCapacityDroppingTheLeastRecentlyUsed) {
  BindingCache cache(2);
  cache.PutBinding(Active("t", "1"), cache.epoch());
  cache.PutBinding(Active("t", "2"), cache.epoch());
  ASSERT_TRUE(cache.FindBinding("t", "1").has_value());  // 1 is now the most recent.
  cache.PutBinding(Active("t", "3"), cache.epoch());
  EXPECT_TRUE(cache.FindBinding("t", "1").has_value());
  EXPECT_FALSE(cache.FindBinding("t", "2").has_value());
  EXPECT_TRUE(cache.FindBinding("t", "3").has_value());
}

TEST(BindingCacheTest, ZeroCapacityTurnsItOff) {
  BindingCache cache(0);
  cache.PutBinding(Active("t", "1"), cache.epoch());
  EXPECT_FALSE(cache.FindBinding("t", "1").has_value());
}

}  // namespace
}  // namespace linechannel::server
