#include <atomic>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/support/temp_dir.h"

namespace linechannel::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

class SqliteEventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Open();
    binding_a_ = Bind("team-a", "100");
    binding_b_ = Bind("team-b", "200");
  }

  // Opens `file` in the test's directory, with the checkpointer's threshold (0: SQLite's own
  // automatic checkpoint); returns its path.
  std::string Open(const std::string& file = "events.db",
                   int checkpoint_wal_pages = Checkpointer::kSqliteDefaultPages) {
    store_.reset();
    SqliteStore::Options options;
    options.path = dir_.File(file);
    options.checkpoint_wal_pages = checkpoint_wal_pages;
    store_ = *SqliteStore::Open(options);
    return options.path;
  }

  int64_t Bind(const std::string& team, const std::string& channel) {
    Binding b;
    b.binding_id = "id-" + channel;
    b.team_id = team;
    b.app_name = "app";
    b.channel_id = channel;
    b.line_id = "line" + channel;
    b.bot_user_id = "U" + channel;
    b.webhook_key = "key" + channel;
    b.channel_secret = {"k", "s"};
    b.access_token = {"k", "t"};
    b.bound_at = b.credentials_updated_at = kT0;
    return store_->InsertActive(b, {"t", kT0, ""}, nullptr)->row_id;
  }

  static NewEvent Event(const std::string& id, const std::string& type = "message") {
    NewEvent e;
    if (!id.empty()) e.webhook_event_id = id;
    e.type = type;
    e.timestamp_ms = 1700000000000;
    e.mode = "active";
    e.source_type = "user";
    e.source_user_id = "Uuser";
    e.raw_json = absl::StrCat(R"({"type":")", type, R"(","webhookEventId":")", id,
                              R"(","text":"\ud83d\ude00"})");
    return e;
  }

  absl::StatusOr<AppendResult> Append(int64_t binding, const std::string& team,
                                      const std::string& channel, std::vector<NewEvent> events,
                                      absl::Time at = kT0) {
    std::promise<absl::StatusOr<AppendResult>> promise;
    store_->AppendEvents({binding, team, channel, at, std::move(events)},
                         [&](absl::StatusOr<AppendResult> r) { promise.set_value(r); });
    return promise.get_future().get();
  }

  // `batches` commits of 20 events of about 2 KiB each, for binding A.
  void AppendLargeBatches(int batches) {
    for (int batch = 0; batch < batches; ++batch) {
      std::vector<NewEvent> events;
      for (int i = 0; i < 20; ++i) {
        NewEvent e = Event(absl::StrCat("ev-", batch, "-", i));
        e.raw_json += std::string(2000, ' ');
        events.push_back(std::move(e));
      }
      ASSERT_TRUE(Append(binding_a_, "team-a", "100", std::move(events)).ok());
    }
  }

  std::vector<StoredEvent> Read(const std::string& team, const std::string& channel = "",
                                int64_t after = 0, int limit = 1000) {
    return *store_->ReadEvents({team, channel, after, limit});
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  int64_t binding_a_ = 0;
  int64_t binding_b_ = 0;
};

TEST_F(SqliteEventStoreTest, StoresABatchOnceAndReadsItBackInOrder) {
  auto result = Append(binding_a_, "team-a", "100", {Event("e1"), Event("e2", "follow")});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stored, 2);
  EXPECT_EQ(result->duplicates, 0);

  const auto events = Read("team-a");
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].event.webhook_event_id, "e1");
  EXPECT_EQ(events[1].event.type, "follow");
  EXPECT_LT(events[0].cursor, events[1].cursor);
  EXPECT_EQ(result->last_cursor, events[1].cursor);
  EXPECT_EQ(events[0].binding_id, "id-100");
  EXPECT_EQ(events[0].event.raw_json, Event("e1").raw_json);
  EXPECT_EQ(events[0].event.source_user_id, "Uuser");
  EXPECT_EQ(events[0].received_at, kT0);
}

TEST_F(SqliteEventStoreTest, RedeliveriesAndDuplicatesAreSkipped) {
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("e1")}).ok());
  NewEvent redelivered = Event("e1");
  redelivered.redelivery = true;
  auto again = Append(binding_a_, "team-a", "100", {redelivered, Event("e2"), Event("e2")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->stored, 1);
  EXPECT_EQ(again->duplicates, 2);
  EXPECT_THAT(Read("team-a"), SizeIs(2));
  // The same id under another binding is another event.
  ASSERT_EQ(Append(binding_b_, "team-b", "200", {Event("e1")})->stored, 1);
}

TEST_F(SqliteEventStoreTest, EventsWithoutIdsAreAlwaysStored) {
  ASSERT_EQ(Append(binding_a_, "team-a", "100", {Event(""), Event("")})->stored, 2);
  ASSERT_EQ(Append(binding_a_, "team-a", "100", {Event("")})->stored, 1);
  EXPECT_THAT(Read("team-a"), SizeIs(3));
}

TEST_F(SqliteEventStoreTest, SimultaneousCopiesOfAnEventStoreItOnce) {
  constexpr int kCopies = 8;
  std::vector<std::promise<absl::StatusOr<AppendResult>>> promises(kCopies);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCopies; ++i) {
    threads.emplace_back([&, i] {
      store_->AppendEvents({binding_a_, "team-a", "100", kT0, {Event("same")}},
                           [&, i](absl::StatusOr<AppendResult> r) { promises[i].set_value(r); });
    });
  }
  int stored = 0;
  int duplicates = 0;
  for (auto& p : promises) {
    auto r = p.get_future().get();
    ASSERT_TRUE(r.ok());
    stored += r->stored;
    duplicates += r->duplicates;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(stored, 1);
  EXPECT_EQ(duplicates, kCopies - 1);
  EXPECT_THAT(Read("team-a"), SizeIs(1));
}

TEST_F(SqliteEventStoreTest, ReadsAreLimitedToTheTeamAndOptionallyAChannel) {
  const int64_t second_a = Bind("team-a", "300");
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("a1")}).ok());
  ASSERT_TRUE(Append(binding_b_, "team-b", "200", {Event("b1")}).ok());
  ASSERT_TRUE(Append(second_a, "team-a", "300", {Event("a2")}).ok());
  EXPECT_THAT(Read("team-a"), SizeIs(2));
  EXPECT_THAT(Read("team-b"), SizeIs(1));
  const auto only_300 = Read("team-a", "300");
  ASSERT_THAT(only_300, SizeIs(1));
  EXPECT_EQ(only_300[0].event.webhook_event_id, "a2");
  EXPECT_THAT(Read("team-c"), SizeIs(0));
}

TEST_F(SqliteEventStoreTest, ACursorResumesWithoutGapsOrRepeats) {
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event(absl::StrCat("e", i))}).ok());
  }
  std::vector<std::string> seen;
  int64_t cursor = 0;
  while (true) {
    const auto page = Read("team-a", "", cursor, 7);
    if (page.empty()) break;
    for (const auto& e : page) seen.push_back(*e.event.webhook_event_id);
    cursor = page.back().cursor;
  }
  ASSERT_THAT(seen, SizeIs(25));
  for (int i = 0; i < 25; ++i) EXPECT_EQ(seen[i], absl::StrCat("e", i));
}

TEST_F(SqliteEventStoreTest, AVerifyRequestRecordsActivityAndStoresNothing) {
  auto result = Append(binding_a_, "team-a", "100", {}, kT0 + absl::Seconds(5));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->stored, 0);
  auto activity = store_->ReadActivity(binding_a_);
  ASSERT_TRUE(activity.ok());
  EXPECT_EQ(activity->last_signed_request, kT0 + absl::Seconds(5));
  EXPECT_FALSE(activity->last_bad_signature.has_value());
  EXPECT_THAT(Read("team-a"), SizeIs(0));

  std::promise<absl::Status> recorded;
  store_->RecordTrouble(binding_a_, WebhookTrouble::kBadSignature, kT0 + absl::Seconds(9),
                        [&](absl::Status s) { recorded.set_value(s); });
  ASSERT_TRUE(recorded.get_future().get().ok());
  activity = store_->ReadActivity(binding_a_);
  EXPECT_EQ(activity->last_bad_signature, kT0 + absl::Seconds(9));
  EXPECT_EQ(activity->last_signed_request, kT0 + absl::Seconds(5));
  EXPECT_FALSE(store_->ReadActivity(binding_b_)->last_signed_request.has_value());
}

TEST_F(SqliteEventStoreTest, RetentionDeletesOnlyOldEventsInBatches) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event(absl::StrCat("old", i))}, kT0).ok());
  }
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("new")}, kT0 + absl::Hours(48)).ok());
  const absl::Time cutoff = kT0 + absl::Hours(1);
  EXPECT_EQ(*store_->DeleteEventsReceivedBefore(cutoff, 4), 4);
  EXPECT_EQ(*store_->DeleteEventsReceivedBefore(cutoff, 4), 4);
  EXPECT_EQ(*store_->DeleteEventsReceivedBefore(cutoff, 4), 2);
  EXPECT_EQ(*store_->DeleteEventsReceivedBefore(cutoff, 4), 0);
  const auto left = Read("team-a");
  ASSERT_THAT(left, SizeIs(1));
  EXPECT_EQ(left[0].event.webhook_event_id, "new");
  // Cursors are never reused, even when the newest events were deleted.
  ASSERT_TRUE(store_->DeleteEventsReceivedBefore(kT0 + absl::Hours(100), 10).ok());
  auto result = Append(binding_a_, "team-a", "100", {Event("after")});
  EXPECT_GT(result->last_cursor, left[0].cursor);
}

TEST_F(SqliteEventStoreTest, TheCheckpointerCopiesTheLogIntoTheDatabaseFile) {
  const std::string path = Open("checkpointed.db", /*checkpoint_wal_pages=*/64);
  binding_a_ = Bind("team-a", "100");
  const auto file_size = [&] { return std::filesystem::file_size(path); };
  const uintmax_t empty_size = file_size();
  AppendLargeBatches(20);
  // SQLite's automatic checkpoint is off on the writer, so only the checkpointer's thread can
  // have moved the committed pages into the database file.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (file_size() < empty_size + 400 * 1024 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(file_size(), empty_size + 400 * 1024);
  EXPECT_GT(store_->checkpoints(), 0);
  EXPECT_THAT(Read("team-a"), SizeIs(400));
  EXPECT_TRUE(store_->CheckIntegrity().ok());
}

TEST_F(SqliteEventStoreTest, WithoutTheCheckpointerSqliteCheckpointsByItself) {
  const std::string path = Open("auto.db", /*checkpoint_wal_pages=*/0);
  binding_a_ = Bind("team-a", "100");
  AppendLargeBatches(120);  // Past SQLite's 1000-page threshold.
  EXPECT_EQ(store_->checkpoints(), 0);
  EXPECT_GT(std::filesystem::file_size(path), 1024u * 1024);
}

TEST_F(SqliteEventStoreTest, EventsSurviveReopening) {
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("e1")}).ok());
  Open();
  EXPECT_THAT(Read("team-a"), SizeIs(1));
  EXPECT_EQ(Append(binding_a_, "team-a", "100", {Event("e1")})->duplicates, 1);
}

}  // namespace
}  // namespace linechannel::storage
