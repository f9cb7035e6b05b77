#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/storage/make_binding.h"
#include "tests/support/temp_dir.h"

namespace linechannel::storage {
namespace {

// What every event store must do is in the store contract (tests/storage/store_contract.h);
// these are the SQLite store's own promises: checkpoints and the file.

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
                   int checkpoint_wal_pages = Checkpointer::kSqliteDefaultPages,
                   int page_size = 0) {
    store_.reset();
    SqliteStore::Options options;
    options.path = dir_.File(file);
    options.checkpoint_wal_pages = checkpoint_wal_pages;
    options.page_size = page_size;
    options.wal_frames_observer = [this](int64_t frames) {
      wal_frames_ += frames;
      ++wal_commits_;
    };
    store_ = *SqliteStore::Open(options);
    return options.path;
  }

  int64_t Bind(const std::string& team, const std::string& channel) {
    return store_->InsertActive(MakeBinding(team, channel), {"t", kT0, ""}, nullptr)->row_id;
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

  // The team's webhook events, without the lifecycle events (the binds') among them.
  std::vector<StoredEvent> Read(const std::string& team, const std::string& channel = "",
                                int64_t after = 0, int limit = 1000) {
    std::vector<StoredEvent> events = *store_->ReadEvents({team, channel, after, limit});
    events.erase(std::remove_if(events.begin(), events.end(),
                                [](const StoredEvent& e) { return e.lifecycle.has_value(); }),
                 events.end());
    return events;
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  int64_t binding_a_ = 0;
  int64_t binding_b_ = 0;
  // What wal_frames_observer was told (on the commit thread; read after the commits return).
  std::atomic<int64_t> wal_frames_{0};
  std::atomic<int64_t> wal_commits_{0};
};

// The log grows by the frames counted: the frames of each commit are what it wrote to disk.
TEST_F(SqliteEventStoreTest, TheWalFramesOfEveryCommitAreCounted) {
  const std::string path = Open("frames.db", /*checkpoint_wal_pages=*/100000);
  binding_a_ = Bind("team-a", "100");
  const int64_t frames_before = wal_frames_;
  const int64_t commits_before = wal_commits_;
  const uintmax_t log_before = std::filesystem::file_size(path + "-wal");
  AppendLargeBatches(5);
  EXPECT_EQ(wal_commits_ - commits_before, 5);
  const int64_t frames = wal_frames_ - frames_before;
  // 100 events of about 2 KiB: at least one 4 KiB page per two events, plus the indexes.
  EXPECT_GE(frames, 50);
  const uintmax_t log_growth = std::filesystem::file_size(path + "-wal") - log_before;
  EXPECT_EQ(log_growth, static_cast<uintmax_t>(frames) * (4096 + 24));
}

TEST_F(SqliteEventStoreTest, ANewFileGetsThePageSizeAskedAndAnOldFileKeepsItsOwn) {
  const std::string path = Open("small-pages.db", Checkpointer::kSqliteDefaultPages, 1024);
  binding_a_ = Bind("team-a", "100");
  AppendLargeBatches(2);
  const auto page_size = [&] {
    store_.reset();
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    return db.execAndGet("PRAGMA page_size").getInt();
  };
  EXPECT_EQ(page_size(), 1024);
  Open("small-pages.db", Checkpointer::kSqliteDefaultPages, 8192);
  EXPECT_THAT(Read("team-a"), SizeIs(40));
  EXPECT_EQ(page_size(), 1024);
}

TEST_F(SqliteEventStoreTest, TheCheckpointerCopiesTheLogIntoTheDatabaseFile) {
  const std::string path = Open("checkpointed.db", /*checkpoint_wal_pages=*/64);
  binding_a_ = Bind("team-a", "100");
  const auto file_size = [&] { return std::filesystem::file_size(path); };
  const uintmax_t empty_size = file_size();
  AppendLargeBatches(20);
  // SQLite's automatic checkpoint is off on the writer, so only the checkpointer's thread can
  // have moved the committed pages into the database file. The file grows while a checkpoint
  // runs and the count goes up once it returns, so wait for both.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while ((file_size() < empty_size + 400 * 1024 || store_->checkpoints() == 0) &&
         absl::Now() < deadline) {
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

// Files from before version 8 kept events once per binding, so one event can be there under
// two bindings of an OA. The migration to once per OA keeps the earliest copy and drops the
// later ones instead of failing.
TEST_F(SqliteEventStoreTest, MigratingToOncePerOaKeepsTheEarliestCopyOfAnEvent) {
  ASSERT_EQ(Append(binding_a_, "team-a", "100", {Event("e1"), Event("")})->stored, 2);
  ASSERT_EQ(Append(binding_b_, "team-b", "200", {Event("e1")})->stored, 1);
  ASSERT_TRUE(store_->MarkUnbound("team-a", "100", {"t", kT0, ""}).ok());
  const int64_t rebound = Bind("team-c", "100");
  store_.reset();
  {
    // Back to version 7's index and columns (without version 9's lifecycle events), then the
    // later copies it allowed.
    SQLite::Database db(dir_.File("events.db"), SQLite::OPEN_READWRITE);
    db.exec(
        "DELETE FROM events WHERE lifecycle IS NOT NULL; "
        "ALTER TABLE events DROP COLUMN lifecycle; "
        "ALTER TABLE events DROP COLUMN lifecycle_actor; "
        "ALTER TABLE events DROP COLUMN lifecycle_detail; "
        "ALTER TABLE events DROP COLUMN lifecycle_reasons; "
        "ALTER TABLE events DROP COLUMN lifecycle_suspended; "
        "ALTER TABLE bindings DROP COLUMN bot_suspended; "
        "ALTER TABLE bindings DROP COLUMN bot_status_at_us; "
        "DROP INDEX events_once_per_oa; "
        "CREATE UNIQUE INDEX events_once ON events(binding_row_id, webhook_event_id) "
        "WHERE webhook_event_id IS NOT NULL; PRAGMA user_version = 7;");
    db.exec(absl::StrCat(
        "INSERT INTO events (binding_row_id, team_id, channel_id, webhook_event_id, type, "
        "timestamp_ms, mode, redelivery, source_type, source_user_id, source_group_id, "
        "source_room_id, received_at_us, raw_json) SELECT ",
        rebound,
        ", 'team-c', channel_id, webhook_event_id, type, timestamp_ms, mode, 1, source_type, "
        "source_user_id, source_group_id, source_room_id, received_at_us + 1, raw_json "
        "FROM events WHERE channel_id = '100' ORDER BY seq"));
  }
  Open();
  {
    SQLite::Database db(dir_.File("events.db"), SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), CurrentSchemaVersion());
  }
  const std::vector<StoredEvent> first = Read("team-a");
  ASSERT_THAT(first, SizeIs(2));
  EXPECT_EQ(first[0].event.webhook_event_id, "e1");
  EXPECT_FALSE(first[0].event.redelivery);
  // The copy without an id is not a duplicate: only the copy of e1 is gone.
  const std::vector<StoredEvent> later = Read("team-c");
  ASSERT_THAT(later, SizeIs(1));
  EXPECT_FALSE(later[0].event.webhook_event_id.has_value());
  EXPECT_THAT(Read("team-b"), SizeIs(1));
  // And from now on the OA's e1 is a duplicate under any binding.
  absl::StatusOr<AppendResult> again = Append(rebound, "team-c", "100", {Event("e1")});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->duplicates, 1);
}

// The events table's indexes, each as `name: sql`, in name order.
std::vector<std::string> EventIndexes(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement select(db,
                           "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND "
                           "tbl_name = 'events' AND sql IS NOT NULL ORDER BY name");
  std::vector<std::string> indexes;
  while (select.executeStep()) {
    indexes.push_back(
        absl::StrCat(select.getColumn(0).getString(), ": ", select.getColumn(1).getString()));
  }
  return indexes;
}

// Version 10 dropped the team-and-channel index. A file of version 9 upgrades to the indexes a
// new file gets, and still lists by team and channel and skips the same duplicates.
TEST_F(SqliteEventStoreTest, AFileOfVersion9GetsTheIndexesOfANewFile) {
  const int64_t binding_c = Bind("team-a", "300");
  ASSERT_EQ(Append(binding_a_, "team-a", "100", {Event("e1"), Event("e2")})->stored, 2);
  ASSERT_EQ(Append(binding_c, "team-a", "300", {Event("e1"), Event("")})->stored, 2);
  ASSERT_EQ(Append(binding_b_, "team-b", "200", {Event("e3")})->stored, 1);
  store_.reset();
  const std::string path = dir_.File("events.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(
        "CREATE INDEX events_by_team_channel ON events(team_id, channel_id, seq); "
        "PRAGMA user_version = 9;");
  }
  Open();
  store_.reset();
  Open("new.db");
  store_.reset();
  EXPECT_EQ(EventIndexes(path), EventIndexes(dir_.File("new.db")));
  EXPECT_THAT(EventIndexes(path), SizeIs(2));
  {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), CurrentSchemaVersion());
  }

  Open();
  const std::vector<StoredEvent> of_300 = Read("team-a", "300");
  ASSERT_THAT(of_300, SizeIs(2));
  EXPECT_EQ(of_300[0].event.webhook_event_id, "e1");
  EXPECT_EQ(of_300[0].channel_id, "300");
  EXPECT_FALSE(of_300[1].event.webhook_event_id.has_value());
  EXPECT_THAT(Read("team-a", "100"), SizeIs(2));
  EXPECT_THAT(Read("team-a"), SizeIs(4));
  EXPECT_THAT(Read("team-b"), SizeIs(1));
  // Once per OA, as before: e1 again is a duplicate on both of its OAs, e3 is new on OA 100.
  absl::StatusOr<AppendResult> again =
      Append(binding_a_, "team-a", "100", {Event("e1"), Event("e3")});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->duplicates, 1);
  EXPECT_EQ(again->stored, 1);
  EXPECT_EQ(Append(binding_c, "team-a", "300", {Event("e1")})->duplicates, 1);
}

}  // namespace
}  // namespace linechannel::storage
