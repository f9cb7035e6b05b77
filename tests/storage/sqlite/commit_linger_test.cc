// When a commit waits for more writes: only with a wait allowed, only for a committer that has
// had time to spare, and then for three quarters of what its recent commits carried.

#include "storage/sqlite/commit_linger.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace linechannel::storage {
namespace {

// `linger` after `n` transactions of `writes` writes each, every one of which the committer
// waited `idle` for and took `busy`.
CommitLinger After(CommitLinger linger, int n, size_t writes, absl::Duration idle,
                   absl::Duration busy) {
  for (int i = 0; i < n; ++i) linger.Record(writes, idle, busy);
  return linger;
}

constexpr absl::Duration kWait = absl::Milliseconds(2);

TEST(CommitLingerTest, ACommitterWithTimeToSpareWaitsForThreeQuartersOfItsRecentBatches) {
  const CommitLinger linger =
      After(CommitLinger(kWait), 100, 20, absl::Microseconds(300), absl::Microseconds(700));
  EXPECT_EQ(linger.WritesToWaitFor(), 15u);
  EXPECT_EQ(linger.max_wait(), kWait);
}

TEST(CommitLingerTest, NothingWaitsWithoutAWaitAllowed) {
  EXPECT_EQ(CommitLinger().WritesToWaitFor(), 0u);
  EXPECT_EQ(After(CommitLinger(), 100, 20, absl::Milliseconds(1), absl::Milliseconds(1))
                .WritesToWaitFor(),
            0u);
}

TEST(CommitLingerTest, ACommitterIdleForLessThanItsShareNeverWaits) {
  // Idle for a tenth of its time: the committer is the bottleneck.
  EXPECT_EQ(After(CommitLinger(kWait), 100, 20, absl::Microseconds(100), absl::Microseconds(900))
                .WritesToWaitFor(),
            0u);
  // And a fresh one has no recent idle time to go by.
  EXPECT_EQ(CommitLinger(kWait).WritesToWaitFor(), 0u);
}

TEST(CommitLingerTest, UnderLightLoadALoneWriteIsCommittedAtOnce) {
  EXPECT_EQ(After(CommitLinger(kWait), 100, 1, absl::Milliseconds(50), absl::Microseconds(500))
                .WritesToWaitFor(),
            0u);
}

TEST(CommitLingerTest, TheWaitFollowsTheBatchesAsTheyShrink) {
  CommitLinger linger =
      After(CommitLinger(kWait), 100, 40, absl::Microseconds(500), absl::Microseconds(500));
  EXPECT_EQ(linger.WritesToWaitFor(), 30u);
  // The load falls: batches of 4, waited for as long.
  linger = After(linger, 100, 4, absl::Microseconds(500), absl::Microseconds(500));
  EXPECT_EQ(linger.WritesToWaitFor(), 3u);
  // The load rises until the committer is never idle: no more waiting.
  linger = After(linger, 100, 40, absl::ZeroDuration(), absl::Microseconds(500));
  EXPECT_EQ(linger.WritesToWaitFor(), 0u);
}

}  // namespace
}  // namespace linechannel::storage
