#include "server/webhook/event_retention.h"

#include <future>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/server/fakes.h"
#include "tests/support/temp_dir.h"

namespace linechannel::server {
namespace {

TEST(EventRetentionTest, DeletesEverythingOlderThanTheRetentionInBatches) {
  testing::TempDir dir;
  storage::SqliteStore::Options options;
  options.path = dir.File("retention.db");
  auto store = *storage::SqliteStore::Open(options);
  storage::Binding b;
  b.binding_id = "b";
  b.team_id = "t";
  b.app_name = "a";
  b.channel_id = "1";
  b.line_id = "l";
  b.webhook_key = "k";
  b.channel_secret = b.access_token = {"k", "x"};
  FakeClock clock;
  // Bound before its events arrived, as always: its lifecycle event is the oldest one.
  const int64_t row =
      store->InsertActive(b, {"t", clock.Now() - absl::Hours(49), ""}, nullptr)->row_id;

  const auto append = [&](int count, absl::Time at) {
    storage::EventBatch batch{row, "t", "1", at, {}};
    for (int i = 0; i < count; ++i) {
      storage::NewEvent e;
      e.type = "message";
      e.raw_json = "{}";
      batch.events.push_back(e);
    }
    std::promise<void> done;
    store->AppendEvents(batch, [&](absl::StatusOr<storage::AppendResult>) { done.set_value(); });
    done.get_future().wait();
  };
  append(1234, clock.Now() - absl::Hours(48));
  append(10, clock.Now() - absl::Minutes(5));

  EventRetention::Options keep;
  keep.keep = absl::Hours(24);
  keep.interval = absl::Hours(1);  // The background round does not interfere with the test.
  keep.batch = 100;
  EventRetention retention(store.get(), store.get(), &clock, keep);
  auto deleted = retention.RunOnce();
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 1234 + 1);
  EXPECT_EQ(store->ReadEvents({"t", "", 0, 10000})->size(), 10u);
  EXPECT_EQ(*retention.RunOnce(), 0);
}

}  // namespace
}  // namespace linechannel::server
