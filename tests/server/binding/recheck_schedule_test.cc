#include "server/binding/recheck_schedule.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace linechannel::server {
namespace {

constexpr absl::Duration kInterval = absl::Hours(6);
constexpr absl::Duration kTick = absl::Minutes(1);
// A fake clock's start, deliberately not on an interval boundary.
const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000) + absl::Seconds(1234);

// Binding ids as BindingService makes them: 20 hex digits.
std::vector<std::string> BindingIds(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i)
    ids.push_back(absl::StrCat("4f1c", absl::Hex(i * 7919 + 13, absl::kZeroPad16)));
  return ids;
}

// How many of `ids` are due in each tick of one interval, walking a fake clock from `start`.
std::vector<int> DuePerTick(const std::vector<std::string>& ids, absl::Time start,
                            std::map<std::string, int>* times_due) {
  std::vector<int> per_tick;
  for (absl::Time from = start; from < start + kInterval; from += kTick) {
    int due = 0;
    for (const std::string& id : ids) {
      if (!RecheckDueIn(id, kInterval, from, from + kTick)) continue;
      ++due;
      if (times_due != nullptr) ++(*times_due)[id];
    }
    per_tick.push_back(due);
  }
  return per_tick;
}

TEST(RecheckScheduleTest, EveryBindingIsDueExactlyOncePerInterval) {
  const std::vector<std::string> ids = BindingIds(2000);
  std::map<std::string, int> times_due;
  DuePerTick(ids, kStart, &times_due);
  ASSERT_EQ(times_due.size(), ids.size());
  for (const auto& [id, times] : times_due) EXPECT_EQ(times, 1) << id;
}

TEST(RecheckScheduleTest, BindingsAreSpreadEvenlyOverTheInterval) {
  // 2000 bindings over 360 one-minute ticks: about 5.6 a tick. A herd would put them all in a
  // few ticks; an even spread keeps every tick far below the 120 checks 2 per second allow.
  const std::vector<int> per_tick = DuePerTick(BindingIds(2000), kStart, nullptr);
  ASSERT_EQ(per_tick.size(), 360u);
  EXPECT_LE(*std::max_element(per_tick.begin(), per_tick.end()), 20);
  // Every hour of the interval gets its share (333 expected), within a fifth.
  for (int hour = 0; hour < 6; ++hour) {
    int in_hour = 0;
    for (int minute = 0; minute < 60; ++minute) in_hour += per_tick[hour * 60 + minute];
    EXPECT_GT(in_hour, 266) << "hour " << hour;
    EXPECT_LT(in_hour, 400) << "hour " << hour;
  }
}

TEST(RecheckScheduleTest, APlaceIsStableAcrossRestartsAndReplicas) {
  // Derived from the id alone (FNV-1a, not a per-process seeded hash): the same in every
  // process and version, with no state to lose. The value is FNV-1a of the id modulo 6 h in
  // microseconds, computed outside this code.
  EXPECT_EQ(RecheckOffset("4f1c00000000000d", kInterval), absl::Microseconds(10647277719));
  const absl::Duration offset = RecheckOffset("4f1c00000000000d", kInterval);
  EXPECT_GE(offset, absl::ZeroDuration());
  EXPECT_LT(offset, kInterval);
  // Due just when the clock passes its place, and not again until one interval later.
  const absl::Time place = absl::UnixEpoch() + offset + 1000 * kInterval;
  EXPECT_TRUE(RecheckDueIn("4f1c00000000000d", kInterval, place - absl::Seconds(1), place));
  EXPECT_FALSE(RecheckDueIn("4f1c00000000000d", kInterval, place, place + absl::Seconds(1)));
  EXPECT_FALSE(RecheckDueIn("4f1c00000000000d", kInterval, place,
                            place + kInterval - absl::Microseconds(1)));
  EXPECT_TRUE(RecheckDueIn("4f1c00000000000d", kInterval, place, place + kInterval));
}

TEST(RecheckScheduleTest, ARestartDoesNotCheckEveryoneAtOnce) {
  // A process starting at `kStart` looks at the window since its start, not since the epoch
  // or since the last round of the process before it: the first tick holds a tick's share.
  const std::vector<std::string> ids = BindingIds(2000);
  int due_first_tick = 0;
  for (const std::string& id : ids)
    due_first_tick += RecheckDueIn(id, kInterval, kStart, kStart + kTick);
  EXPECT_LE(due_first_tick, 20);
  // An empty or backwards window has nothing due.
  EXPECT_FALSE(RecheckDueIn(ids[0], kInterval, kStart, kStart));
  EXPECT_FALSE(RecheckDueIn(ids[0], kInterval, kStart, kStart - kTick));
}

TEST(RecheckScheduleTest, UnverifiedRetriesBackOffToTheCap) {
  const absl::Duration first = absl::Seconds(30);
  const absl::Duration most = absl::Minutes(5);
  std::vector<absl::Duration> waits;
  absl::Duration wait = first;
  for (int i = 0; i < 6; ++i) {
    waits.push_back(wait);
    wait = NextUnverifiedWait(wait, first, most);
  }
  EXPECT_EQ(waits, (std::vector<absl::Duration>{absl::Seconds(30), absl::Seconds(60),
                                                absl::Seconds(120), absl::Seconds(240),
                                                absl::Seconds(300), absl::Seconds(300)}));
  EXPECT_EQ(NextUnverifiedWait(absl::ZeroDuration(), first, most), first);
}

}  // namespace
}  // namespace linechannel::server
