#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite/event_row_inserter.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/storage/make_binding.h"
#include "tests/storage/sqlite/team_cursor_keys.h"
#include "tests/support/sqlite_rows.h"
#include "tests/support/temp_dir.h"

namespace linechannel::storage {
namespace {

// What every event store must do is in the store contract (tests/storage/store_contract.h);
// these are the SQLite store's own promises: checkpoints and the file.

using ::testing::HasSubstr;
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
    options.event_index_batch = event_index_batch_;
    options.event_index_pieces = event_index_pieces_;
    options.wal_frames_observer = [this](int64_t frames) {
      wal_frames_ += frames;
      ++wal_commits_;
    };
    options.commit_observer = [this](absl::Duration, int writes, bool) {
      if (writes > most_writes_per_transaction_) most_writes_per_transaction_ = writes;
    };
    store_ = *SqliteStore::Open(options);
    return options.path;
  }

  // Opens a new `file` whose event index catches up every `batch` rows in `pieces` writes,
  // with bindings A and B; returns its path.
  std::string OpenIndexing(const std::string& file, int batch, int pieces) {
    event_index_batch_ = batch;
    event_index_pieces_ = pieces;
    const std::string path = Open(file);
    binding_a_ = Bind("team-a", "100");
    binding_b_ = Bind("team-b", "200");
    return path;
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

  // Makes the file at `path` refuse to store an event with webhookEventId `id`, by a trigger
  // named refuse_<id> that does RAISE(`raise`): ABORT fails the write, ROLLBACK rolls back its
  // whole transaction. The writer's prepared statements see it once the schema changed.
  static void RefuseEventId(const std::string& path, const std::string& id,
                            const std::string& raise) {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(absl::StrCat("CREATE TRIGGER refuse_", id,
                         " BEFORE INSERT ON events WHEN NEW.webhook_event_id = '", id,
                         "' BEGIN SELECT RAISE(", raise, ", 'refused'); END;"));
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

  // What Open gives Options::event_index_batch.
  int event_index_batch_ = SqliteStore::Options().event_index_batch;
  int event_index_pieces_ = SqliteStore::Options().event_index_pieces;
  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  int64_t binding_a_ = 0;
  int64_t binding_b_ = 0;
  // What wal_frames_observer was told (on the commit thread; read after the commits return).
  std::atomic<int64_t> wal_frames_{0};
  std::atomic<int64_t> wal_commits_{0};
  // What commit_observer was told: the most writes one transaction held.
  std::atomic<int> most_writes_per_transaction_{0};
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

// SQLite starts the log over only when a write begins with every frame copied into the
// database file. Commits back to back always land while the checkpointer's thread copies, so
// without the commit thread copying the rest itself the log held every frame ever committed.
TEST_F(SqliteEventStoreTest, UnderWritesBackToBackTheLogStartsOverInsteadOfGrowing) {
  const std::string path = Open("steady.db", /*checkpoint_wal_pages=*/64);
  binding_a_ = Bind("team-a", "100");
  const int64_t frames_before = wal_frames_;
  AppendLargeBatches(300);
  const int64_t committed_frames = wal_frames_ - frames_before;
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  const int64_t frame_bytes = db.execAndGet("PRAGMA page_size").getInt() + 24;
  // The file keeps the largest size the log ever had: one round of the checkpointer (64 pages
  // and the commits made while it copied), not the 300 commits' frames.
  EXPECT_LT(static_cast<int64_t>(std::filesystem::file_size(path + "-wal")),
            committed_frames * frame_bytes / 3)
      << committed_frames << " frames committed";
  EXPECT_GT(store_->checkpoints(), 0);
  EXPECT_THAT(Read("team-a", "", 0, 10000), SizeIs(6000));
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
        "DROP TABLE events_team_cursors; DROP TABLE events_team_newest; "
        "DROP TABLE events_once_per_oa; "
        "DROP TABLE events_indexed; DROP TABLE events_cursor_floor; "
        "CREATE INDEX events_by_team ON events(team_id, seq); "
        "CREATE INDEX events_by_team_channel ON events(team_id, channel_id, seq); "
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

// Each row's (team, cursor), by cursor: what events_team_cursors must hold once indexed.
std::vector<std::pair<std::string, int64_t>> EveryRowsTeam(SQLite::Database& db) {
  std::vector<std::pair<std::string, int64_t>> keys;
  SQLite::Statement select(db, "SELECT team_id, seq FROM events ORDER BY seq");
  while (select.executeStep()) {
    keys.emplace_back(select.getColumn(0).getString(), select.getColumn(1).getInt64());
  }
  return keys;
}

// The schema of the events table and its ways in (tables and indexes whose names begin with
// "events"), each as `name: sql`, in name order.
std::vector<std::string> EventSchema(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement select(db,
                           "SELECT name, sql FROM sqlite_schema WHERE name LIKE 'events%' AND "
                           "sql IS NOT NULL ORDER BY name");
  std::vector<std::string> schema;
  while (select.executeStep()) {
    schema.push_back(
        absl::StrCat(select.getColumn(0).getString(), ": ", select.getColumn(1).getString()));
  }
  return schema;
}

// Version 10 dropped the team-and-channel index; version 11 replaced the events table's
// indexes by tables kept in batches. A file of version 9 upgrades to the schema a new file
// gets, with every row's keys in the new tables, and still lists by team and channel and skips
// the same duplicates.
TEST_F(SqliteEventStoreTest, AFileOfVersion9GetsTheEventIndexOfANewFile) {
  const int64_t binding_c = Bind("team-a", "300");
  ASSERT_EQ(Append(binding_a_, "team-a", "100", {Event("e1"), Event("e2")})->stored, 2);
  ASSERT_EQ(Append(binding_c, "team-a", "300", {Event("e1"), Event("")})->stored, 2);
  ASSERT_EQ(Append(binding_b_, "team-b", "200", {Event("e3")})->stored, 1);
  store_.reset();
  const std::string path = dir_.File("events.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(
        "DROP TABLE events_team_cursors; DROP TABLE events_team_newest; "
        "DROP TABLE events_once_per_oa; "
        "DROP TABLE events_indexed; DROP TABLE events_cursor_floor; "
        "CREATE INDEX events_by_team ON events(team_id, seq); "
        "CREATE INDEX events_by_team_channel ON events(team_id, channel_id, seq); "
        "CREATE UNIQUE INDEX events_once_per_oa ON events(channel_id, webhook_event_id) "
        "WHERE webhook_event_id IS NOT NULL; "
        "PRAGMA user_version = 9;");
  }
  Open();
  store_.reset();
  Open("new.db");
  store_.reset();
  EXPECT_EQ(EventSchema(path), EventSchema(dir_.File("new.db")));
  {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), CurrentSchemaVersion());
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                            "tbl_name = 'events'")
                  .getInt(),
              0);
    // Every row is indexed: its team key, its once-per-OA key if it has an id.
    EXPECT_EQ(db.execAndGet("SELECT through_seq FROM events_indexed").getInt64(),
              db.execAndGet("SELECT max(seq) FROM events").getInt64());
    EXPECT_EQ(TeamCursorKeys(db), EveryRowsTeam(db));
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM events_once_per_oa").getInt64(), 4);
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

// The cursor up to which the event index tables hold the rows' keys.
int64_t IndexedThrough(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet("SELECT through_seq FROM events_indexed").getInt64();
}

// With batches of 5, some of a team's events are found through the index tables and the newest
// through their cursors alone; reads across the watermark, with and without a channel and at
// any limit, see each event once and in order, and a copy of an event is a duplicate on either
// side of it, also after the store is opened again (the tail's keys are read back).
TEST_F(SqliteEventStoreTest, EventsAreFoundAndDeduplicatedOnBothSidesOfTheIndexWatermark) {
  const std::string path = OpenIndexing("batched.db", /*batch=*/5, /*pieces=*/1);
  const int64_t binding_c = Bind("team-a", "300");
  // Cursors 1-3 are the bindings' lifecycle events, 4-10 team B's, 11-17 team A's. A catch-up
  // is queued after the writes of cursors 5, 10 and 15, and runs before the next write.
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(Append(binding_b_, "team-b", "200", {Event(absl::StrCat("e", i))}).ok());
  }
  for (int i = 0; i < 7; ++i) {
    ids.push_back(absl::StrCat("e", i));
    ASSERT_TRUE(Append(i % 2 == 0 ? binding_a_ : binding_c, "team-a", i % 2 == 0 ? "100" : "300",
                       {Event(ids.back())})
                    .ok());
  }
  const std::vector<StoredEvent> all = Read("team-a");
  ASSERT_THAT(all, SizeIs(7));
  ASSERT_EQ(IndexedThrough(path), all[4].cursor) << "e5 and e6 are in the tail";
  for (int i = 0; i < 7; ++i) EXPECT_EQ(all[i].event.webhook_event_id, ids[i]);
  // Page by page with every limit: the same events in the same order.
  for (int limit = 1; limit <= 4; ++limit) {
    std::vector<std::string> paged;
    int64_t after = 0;
    while (true) {
      const std::vector<StoredEvent> page = *store_->ReadEvents({"team-a", "", after, limit});
      if (page.empty()) break;
      for (const StoredEvent& e : page) {
        if (!e.lifecycle.has_value()) paged.push_back(*e.event.webhook_event_id);
      }
      after = page.back().cursor;
    }
    EXPECT_EQ(paged, ids) << "limit " << limit;
  }
  const std::vector<StoredEvent> of_300 = Read("team-a", "300");
  ASSERT_THAT(of_300, SizeIs(3));
  EXPECT_EQ(of_300[0].event.webhook_event_id, "e1");
  EXPECT_EQ(of_300[2].event.webhook_event_id, "e5");
  EXPECT_THAT(Read("team-a", "300", of_300[0].cursor), SizeIs(2));
  EXPECT_THAT(Read("team-b"), SizeIs(7));

  for (int reopen = 0; reopen < 2; ++reopen) {
    // e0 and e2 are indexed, e6 is in the tail; all are duplicates on OA 100.
    absl::StatusOr<AppendResult> again =
        Append(binding_a_, "team-a", "100", {Event("e0"), Event("e6"), Event("e2")});
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(again->duplicates, 3) << "reopened " << reopen;
    EXPECT_EQ(Append(binding_c, "team-a", "300", {Event("e5")})->duplicates, 1);
    // The same id on another OA is another event.
    EXPECT_EQ(Append(binding_c, "team-a", "300", {Event(absl::StrCat("new", reopen))})->stored, 1);
    Open("batched.db");
  }
}

// Seen skips the table for an id past every indexed one (LINE's ids grow with time); ids that
// do not grow, and copies of the greatest indexed id itself, are still caught, before and
// after a restart.
TEST_F(SqliteEventStoreTest, CopiesAreCaughtWhetherOrNotTheirIdsGrowWithTime) {
  OpenIndexing("ids.db", /*batch=*/2, /*pieces=*/1);
  for (const char* id : {"m5", "m1", "m7", "m2"}) {
    ASSERT_EQ(Append(binding_a_, "team-a", "100", {Event(id)})->stored, 1) << id;
  }
  for (int reopen = 0; reopen < 2; ++reopen) {
    // m1 and m5 are below the watermark (m7 and m2 may be too, by now); m7 is the greatest.
    for (const char* id : {"m1", "m5", "m7", "m2"}) {
      EXPECT_EQ(Append(binding_a_, "team-a", "100", {Event(id)})->duplicates, 1)
          << id << ", reopened " << reopen;
    }
    const std::string older = absl::StrCat("m0", reopen);
    const std::string newer = absl::StrCat("m9", reopen);
    EXPECT_EQ(Append(binding_a_, "team-a", "100", {Event(older), Event(newer)})->stored, 2);
    EXPECT_EQ(Append(binding_a_, "team-a", "100", {Event(newer), Event(older)})->duplicates, 2);
    Open("ids.db");
  }
  EXPECT_THAT(Read("team-a"), SizeIs(8));
}

// Version 12 turned events_by_team's keys into team rows. From a file of version 11 with
// more than one 4096-cursor span of keys, the watermark inside a span and keys above it (a
// catch-up cut off): the rows hold exactly the keys up to the watermark, each within its
// catch-up, and paged reads across the spans see every event once, in order.
TEST_F(SqliteEventStoreTest, AFileOfVersion11GetsTeamRowsOfTheKeysUpToItsWatermark) {
  event_index_batch_ = 100000;
  const std::string path = Open("v11.db");
  binding_a_ = Bind("team-a", "100");
  binding_b_ = Bind("team-b", "200");
  for (int batch = 0; batch < 90; ++batch) {
    std::vector<NewEvent> a;
    std::vector<NewEvent> b;
    for (int i = 0; i < 50; ++i) {
      a.push_back(Event(absl::StrCat("a", batch * 50 + i)));
      b.push_back(Event(absl::StrCat("b", batch * 50 + i)));
    }
    ASSERT_TRUE(Append(binding_a_, "team-a", "100", std::move(a)).ok());
    ASSERT_TRUE(Append(binding_b_, "team-b", "200", std::move(b)).ok());
  }
  store_.reset();
  constexpr int64_t kWatermark = 6000;
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(
        absl::StrCat("DROP TABLE events_team_cursors; DROP TABLE events_team_newest; "
                     "DROP TABLE events_cursor_floor; "
                     "CREATE TABLE events_by_team (team_id TEXT NOT NULL, seq INTEGER NOT NULL, "
                     "PRIMARY KEY (team_id, seq)) STRICT, WITHOUT ROWID; "
                     "INSERT INTO events_by_team SELECT team_id, seq FROM events; "
                     "INSERT OR IGNORE INTO events_once_per_oa SELECT webhook_event_id, channel_id "
                     "FROM events WHERE webhook_event_id IS NOT NULL; "
                     "UPDATE events_indexed SET through_seq = ",
                     kWatermark, "; PRAGMA user_version = 11;"));
  }
  Open("v11.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    std::vector<std::pair<std::string, int64_t>> indexed = EveryRowsTeam(db);
    indexed.erase(std::remove_if(indexed.begin(), indexed.end(),
                                 [](const auto& key) { return key.second > kWatermark; }),
                  indexed.end());
    EXPECT_EQ(TeamCursorKeys(db), indexed);
    // Rows of the spans 1-4095, 4096-6000 per team.
    EXPECT_EQ(db.execAndGet("SELECT group_concat(through_seq || ' ' || team_id, ', ') FROM "
                            "(SELECT * FROM events_team_cursors ORDER BY 1, 2)")
                  .getString(),
              "4095 team-a, 4095 team-b, 6000 team-a, 6000 team-b");
    EXPECT_EQ(db.execAndGet("SELECT group_concat(team_id || ' ' || through_seq, ', ') FROM "
                            "(SELECT * FROM events_team_newest ORDER BY 1)")
                  .getString(),
              "team-a 6000, team-b 6000");
  }
  const std::vector<StoredEvent> whole = Read("team-a", "", 0, 10000);
  ASSERT_THAT(whole, SizeIs(4500));
  for (int i = 0; i < 4500; ++i) {
    ASSERT_EQ(whole[i].event.webhook_event_id, absl::StrCat("a", i)) << i;
  }
  // Three at a time, as ListEvents pages go, across both spans, the watermark and the tail.
  std::vector<int64_t> paged;
  int64_t after = 0;
  for (;;) {
    const std::vector<StoredEvent> page = *store_->ReadEvents({"team-a", "", after, 3});
    if (page.empty()) break;
    for (const StoredEvent& e : page) paged.push_back(e.cursor);
    after = page.back().cursor;
  }
  const absl::StatusOr<std::vector<StoredEvent>> all = store_->ReadEvents({"team-a", "", 0, 10000});
  ASSERT_TRUE(all.ok()) << all.status();
  std::vector<int64_t> cursors;
  for (const StoredEvent& e : *all) cursors.push_back(e.cursor);
  EXPECT_EQ(paged, cursors);
  // Retention catches up the rest at once (it deletes nothing here).
  ASSERT_EQ(*store_->DeleteEventsReceivedBefore(kT0 - absl::Hours(1), 100), 0);
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(TeamCursorKeys(db), EveryRowsTeam(db));
  EXPECT_THAT(Read("team-b", "", 0, 10000), SizeIs(4500));
}

// A catch-up in pieces of one key per table, each piece in a transaction of its own, runs
// while events arrive and are read: whatever part of the tail's keys is already in the tables,
// every read sees each event once and in order, and every copy is a duplicate.
TEST_F(SqliteEventStoreTest, ACatchUpInPiecesNeverShowsAnEventTwiceOrLetsACopyIn) {
  OpenIndexing("pieces.db", /*batch=*/3, /*pieces=*/1000);
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    ids.push_back(absl::StrCat("e", i));
    ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event(ids.back())}).ok());
    ASSERT_TRUE(Append(binding_b_, "team-b", "200", {Event(ids.back())}).ok());
    std::vector<std::string> read;
    for (const StoredEvent& e : Read("team-a")) read.push_back(*e.event.webhook_event_id);
    ASSERT_EQ(read, ids) << "after " << i + 1;
    const int64_t copy = i * 7 % (i + 1);
    EXPECT_EQ(Append(binding_a_, "team-a", "100", {Event(ids[copy])})->duplicates, 1)
        << ids[copy] << " after " << i + 1;
  }
  EXPECT_THAT(Read("team-a", "", 0, 1000), SizeIs(40));
  EXPECT_THAT(Read("team-b", "200", 0, 1000), SizeIs(40));
}

// Whatever stored the rows after the watermark (webhook batches of two teams, events without a
// webhookEventId, the lifecycle events of binds, writes rolled back, whose cursors no row gets),
// every catch-up gives each row the keys of its own team and OA.
TEST_F(SqliteEventStoreTest, EveryCatchUpGivesEachRowTheKeysOfItsOwnTeamAndOa) {
  const std::string path = OpenIndexing("keys.db", /*batch=*/3, /*pieces=*/2);
  RefuseEventId(path, "bad", "ABORT");
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event(absl::StrCat("a", i))}).ok());
    if (i % 4 == 1) {
      EXPECT_FALSE(
          Append(binding_a_, "team-a", "100", {Event(absl::StrCat("x", i)), Event("bad")}).ok());
    }
    ASSERT_TRUE(Append(binding_b_, "team-b", "200", {Event(absl::StrCat("b", i)), Event("")}).ok());
    if (i % 7 == 3) Bind("team-c", absl::StrCat(300 + i));
  }
  const std::vector<StoredEvent> of_a = Read("team-a");
  ASSERT_THAT(of_a, SizeIs(30));
  for (int i = 0; i < 30; ++i) EXPECT_EQ(of_a[i].event.webhook_event_id, absl::StrCat("a", i));
  EXPECT_THAT(Read("team-b", "200"), SizeIs(60));
  EXPECT_THAT(*store_->ReadEvents({"team-c", "", 0, 100}), SizeIs(4));
  // Retention indexes whatever is left at once, reading the rows; it deletes nothing here.
  ASSERT_EQ(*store_->DeleteEventsReceivedBefore(kT0 - absl::Hours(1), 100), 0);
  store_.reset();
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  const auto keys = [&db](const std::string& sql) {
    std::vector<std::string> rows;
    SQLite::Statement select(db, sql);
    while (select.executeStep()) {
      rows.push_back(
          absl::StrCat(select.getColumn(0).getString(), "/", select.getColumn(1).getString()));
    }
    return rows;
  };
  EXPECT_EQ(TeamCursorKeys(db), EveryRowsTeam(db));
  EXPECT_EQ(keys("SELECT webhook_event_id, channel_id FROM events_once_per_oa ORDER BY 1, 2"),
            keys("SELECT webhook_event_id, channel_id FROM events "
                 "WHERE webhook_event_id IS NOT NULL ORDER BY 1, 2"));
}

// A webhook write told the event index of its row, and then another write of its transaction
// rolled the whole transaction back; a bind's lifecycle event came next, and a later catch-up
// indexed it: every row has its own team's key, never the rolled-back row's. (Until version 13
// the bind's event got the rolled-back row's cursor; now that cursor stays unused, a gap that
// makes the catch-up read the file.)
TEST_F(SqliteEventStoreTest, ARowRolledBackWithItsTransactionLendsNoKeyToAnyRow) {
  const std::string path = OpenIndexing("rollback.db", /*batch=*/2, /*pieces=*/1);
  RefuseEventId(path, "rb", "ROLLBACK");
  const auto append = [this](int64_t binding, const std::string& team, const std::string& channel,
                             const std::string& id) {
    auto promise = std::make_shared<std::promise<bool>>();
    store_->AppendEvents({binding, team, channel, kT0, {Event(id)}},
                         [promise](absl::StatusOr<AppendResult> r) { promise->set_value(r.ok()); });
    return promise->get_future();
  };
  bool rolled_back_together = false;
  for (int round = 0; round < 20 && !rolled_back_together; ++round) {
    // Nothing in the tail, so that the next catch-up starts right after the rolled-back row.
    ASSERT_EQ(*store_->DeleteEventsReceivedBefore(kT0 - absl::Hours(1), 100), 0);
    std::future<bool> first;
    std::future<bool> told;
    std::future<bool> rolls_back;
    {
      // The commit thread waits for this lock with the first write, while the next two are
      // queued behind it and so share a transaction.
      SQLite::Database lock(path, SQLite::OPEN_READWRITE);
      lock.exec("BEGIN IMMEDIATE");
      first = append(binding_b_, "team-b", "200", absl::StrCat("first", round));
      absl::SleepFor(absl::Milliseconds(50));
      told = append(binding_a_, "team-a", "100", absl::StrCat("told", round));
      rolls_back = append(binding_b_, "team-b", "200", "rb");
      lock.exec("COMMIT");
    }
    ASSERT_TRUE(first.get());
    rolled_back_together = !told.get();
    ASSERT_FALSE(rolls_back.get());
    Bind("team-c", absl::StrCat(300 + round));
    ASSERT_TRUE(append(binding_b_, "team-b", "200", absl::StrCat("after", round)).get());
    // After the catch-up that the last write queued (writes run in the order queued).
    ASSERT_EQ(*store_->DeleteEventsReceivedBefore(kT0 - absl::Hours(1), 100), 0);
    for (const char* team : {"team-a", "team-b", "team-c"}) {
      const absl::StatusOr<std::vector<StoredEvent>> read = store_->ReadEvents({team, "", 0, 1000});
      ASSERT_TRUE(read.ok()) << read.status();
      for (const StoredEvent& e : *read) {
        ASSERT_EQ(e.team_id, team) << "cursor " << e.cursor << ", round " << round;
      }
    }
  }
  // The commit thread takes the first write alone within 50 ms, in every one of 20 rounds.
  EXPECT_TRUE(rolled_back_together) << "the told write never shared the rolled-back transaction";
  EXPECT_THAT(Read("team-a"), SizeIs(0));
}

// A catch-up cut off by a restart leaves some of the tail's once-per-OA keys in their table
// above the watermark; and a team row above it is of no finished catch-up (ours write them with
// the watermark; a file changed by hand): neither is read twice, the events stay duplicates, and
// the next catch-up adds the rest around the keys and in place of the row.
TEST_F(SqliteEventStoreTest, KeysOfACatchUpCutOffAreNeitherReadTwiceNorInTheWay) {
  event_index_batch_ = 1000;
  const std::string path = Open("cut.db");
  binding_a_ = Bind("team-a", "100");
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("e0"), Event("e1"), Event("e2")}).ok());
  const std::vector<StoredEvent> before = Read("team-a");
  ASSERT_THAT(before, SizeIs(3));
  store_.reset();
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    ASSERT_EQ(db.execAndGet("SELECT through_seq FROM events_indexed").getInt64(), 0);
    db.exec(absl::StrCat(
        "INSERT INTO events_team_cursors (through_seq, team_id, cursors) VALUES (",
        before[1].cursor, ", 'team-a', x'",
        absl::BytesToHexString(EncodeCursors({before[0].cursor, before[1].cursor})), "')"));
    db.exec("INSERT INTO events_once_per_oa (webhook_event_id, channel_id) VALUES ('e1', '100')");
  }
  event_index_batch_ = 2;
  Open("cut.db");
  std::vector<StoredEvent> after = Read("team-a");
  ASSERT_THAT(after, SizeIs(3));
  EXPECT_EQ(after[1].event.webhook_event_id, "e1");
  absl::StatusOr<AppendResult> again =
      Append(binding_a_, "team-a", "100", {Event("e1"), Event("e2"), Event("e3")});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->duplicates, 2);
  EXPECT_EQ(again->stored, 1);
  // Retention catches up at once, over the keys already there; it deletes nothing here.
  ASSERT_EQ(*store_->DeleteEventsReceivedBefore(kT0 - absl::Hours(1), 100), 0);
  EXPECT_THAT(Read("team-a"), SizeIs(4));
  store_.reset();
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(IndexedThrough(path), db.execAndGet("SELECT max(seq) FROM events").getInt64());
  EXPECT_EQ(TeamCursorKeys(db), EveryRowsTeam(db));
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM events_once_per_oa").getInt64(), 4);
}

// Every row a team's cursors lead to is checked for the team: a team row that names another
// team's event (a damaged file, or a bug) shows that event to no one but its own team.
TEST_F(SqliteEventStoreTest, ATeamRowNamingAnotherTeamsEventDoesNotShowIt) {
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("a1"), Event("a2")}).ok());
  // Retention indexes the tail first (and deletes nothing here): twice, so that the second
  // catch-up holds team-a's a3 alone.
  ASSERT_EQ(*store_->DeleteEventsReceivedBefore(kT0 - absl::Hours(1), 100), 0);
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("a3")}).ok());
  ASSERT_EQ(*store_->DeleteEventsReceivedBefore(kT0 - absl::Hours(1), 100), 0);
  const std::vector<StoredEvent> of_a = Read("team-a");
  ASSERT_THAT(of_a, SizeIs(3));
  const int64_t a3 = of_a[2].cursor;
  {
    SQLite::Database db(dir_.File("events.db"), SQLite::OPEN_READWRITE);
    db.exec(absl::StrCat("INSERT INTO events_team_cursors (through_seq, team_id, cursors) VALUES (",
                         a3, ", 'team-b', x'", absl::BytesToHexString(EncodeCursors({a3})), "')"));
    db.exec(absl::StrCat("INSERT OR REPLACE INTO events_team_newest VALUES ('team-b', ", a3, ")"));
  }
  EXPECT_THAT(Read("team-b"), SizeIs(0));
  EXPECT_THAT(Read("team-a"), SizeIs(3));
}

// A write whose rows are rolled back leaves no once-per-OA key behind: the same events sent
// again are stored, not taken for duplicates.
TEST_F(SqliteEventStoreTest, EventsOfAWriteThatFailedAreNotDuplicatesLater) {
  const std::string path = dir_.File("events.db");
  RefuseEventId(path, "bad", "ABORT");
  absl::StatusOr<AppendResult> failed =
      Append(binding_a_, "team-a", "100", {Event("good"), Event("bad")});
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(Read("team-a"), SizeIs(0));
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("DROP TRIGGER refuse_bad");
  }
  absl::StatusOr<AppendResult> again =
      Append(binding_a_, "team-a", "100", {Event("good"), Event("bad")});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->stored, 2);
  EXPECT_EQ(again->duplicates, 0);
}

// A write refused in the middle of a transaction forgets its keys at once: a write after it in
// the same transaction carrying a copy of one of its events stores it (LINE redelivering an
// event whose first delivery failed). Each refused write is queued with its copy right behind
// it, all at once, and the commit thread takes what is queued into one transaction.
TEST_F(SqliteEventStoreTest, ACopyOfARefusedWritesEventLaterInItsTransactionIsStored) {
  RefuseEventId(dir_.File("events.db"), "bad", "ABORT");
  constexpr int kPairs = 50;
  std::vector<std::promise<absl::StatusOr<AppendResult>>> refused(kPairs);
  std::vector<std::promise<absl::StatusOr<AppendResult>>> copies(kPairs);
  for (int i = 0; i < kPairs; ++i) {
    const std::string id = absl::StrCat("e", 100 + i);
    store_->AppendEvents({binding_a_, "team-a", "100", kT0, {Event(id), Event("bad")}},
                         [&, i](absl::StatusOr<AppendResult> r) { refused[i].set_value(r); });
    store_->AppendEvents({binding_a_, "team-a", "100", kT0, {Event(id)}},
                         [&, i](absl::StatusOr<AppendResult> r) { copies[i].set_value(r); });
  }
  for (int i = 0; i < kPairs; ++i) {
    EXPECT_FALSE(refused[i].get_future().get().ok()) << i;
    absl::StatusOr<AppendResult> copy = copies[i].get_future().get();
    ASSERT_TRUE(copy.ok()) << i << ": " << copy.status();
    EXPECT_EQ(copy->stored, 1) << i;
    EXPECT_EQ(copy->duplicates, 0) << i;
  }
  EXPECT_THAT(Read("team-a"), SizeIs(kPairs));
  // Pairs did share transactions (else this test would show nothing).
  EXPECT_GT(most_writes_per_transaction_, 2);
}

// A batch that takes several insert statements (EventRowInserter) is stored whole and in its
// order, with its copies skipped and its events without an id kept; a row refused by the last
// statement fails the whole batch, the rows of the statements before it included.
TEST_F(SqliteEventStoreTest, ABatchOfSeveralInsertStatementsIsStoredWholeInItsOrder) {
  constexpr int kEvents = 2 * EventRowInserter::kMaxRowsPerStatement + 11;
  const auto id = [](int i) { return i % 10 == 9 ? std::string() : absl::StrCat("m", 100 + i); };
  std::vector<NewEvent> events;
  for (int i = 0; i < kEvents; ++i) {
    events.push_back(Event(id(i)));
    if (i % 20 == 5) events.push_back(Event(id(i)));  // A copy within the batch.
  }
  absl::StatusOr<AppendResult> stored = Append(binding_a_, "team-a", "100", events);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->stored, kEvents);
  EXPECT_EQ(stored->duplicates, 4);
  const std::vector<StoredEvent> of_a = Read("team-a");
  ASSERT_THAT(of_a, SizeIs(kEvents));
  for (int i = 0; i < kEvents; ++i) {
    EXPECT_EQ(of_a[i].event.webhook_event_id.value_or(""), id(i));
    EXPECT_EQ(of_a[i].cursor, of_a[0].cursor + i);
  }
  EXPECT_EQ(stored->last_cursor, of_a.back().cursor);

  const std::string path = dir_.File("events.db");
  RefuseEventId(path, "last", "ABORT");
  std::vector<NewEvent> refused;
  for (int i = 0; i < kEvents - 1; ++i) refused.push_back(Event(absl::StrCat("n", 100 + i)));
  refused.push_back(Event("last"));
  EXPECT_FALSE(Append(binding_a_, "team-a", "100", refused).ok());
  EXPECT_THAT(Read("team-a"), SizeIs(kEvents));
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("DROP TRIGGER refuse_last");
  }
  // Its keys went with it: sent again, every event is new.
  absl::StatusOr<AppendResult> again = Append(binding_a_, "team-a", "100", refused);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->stored, kEvents);
  EXPECT_EQ(again->duplicates, 0);
}

// Retention first indexes the tail, so that the rows it deletes take their keys with them: an
// event deleted by retention and sent again is stored again, and a team row whose events are
// all gone goes too.
TEST_F(SqliteEventStoreTest, RetentionDeletesTheKeysOfTheEventsItDeletes) {
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("old")}, kT0).ok());
  // Retention indexes the tail first (and deletes nothing here): the old event, with the binds'
  // lifecycle events, gets team rows of its own.
  ASSERT_EQ(*store_->DeleteEventsReceivedBefore(kT0 - absl::Hours(1), 100), 0);
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("new")}, kT0 + absl::Hours(48)).ok());
  absl::StatusOr<int> deleted = store_->DeleteEventsReceivedBefore(kT0 + absl::Hours(1), 100);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_GE(*deleted, 1);
  const std::vector<StoredEvent> left = Read("team-a");
  ASSERT_THAT(left, SizeIs(1));
  EXPECT_EQ(left[0].event.webhook_event_id, "new");
  {
    SQLite::Database db(dir_.File("events.db"), SQLite::OPEN_READONLY);
    // The team rows of the first catch-up went with the last of their events.
    EXPECT_EQ(TeamCursorKeys(db), EveryRowsTeam(db));
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM events_once_per_oa").getInt(), 1);
  }
  absl::StatusOr<AppendResult> again =
      Append(binding_a_, "team-a", "100", {Event("old"), Event("new")}, kT0 + absl::Hours(49));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->stored, 1);
  EXPECT_EQ(again->duplicates, 1);
}

// Retention that deletes every event takes every team row with it; the next events are read
// as ever.
TEST_F(SqliteEventStoreTest, RetentionOfEveryEventLeavesNoTeamRows) {
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("old")}, kT0).ok());
  ASSERT_GE(*store_->DeleteEventsReceivedBefore(kT0 + absl::Hours(1), 100), 1);
  {
    SQLite::Database db(dir_.File("events.db"), SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM events").getInt(), 0);
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM events_team_cursors").getInt(), 0);
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM events_team_newest").getInt(), 0);
  }
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("new")}, kT0 + absl::Hours(2)).ok());
  ASSERT_EQ(*store_->DeleteEventsReceivedBefore(kT0 + absl::Hours(1), 100), 0);
  const std::vector<StoredEvent> left = Read("team-a");
  ASSERT_THAT(left, SizeIs(1));
  EXPECT_EQ(left[0].event.webhook_event_id, "new");
}

// The store gives cursors itself (the table has no AUTOINCREMENT): after retention deleted
// every event, a store opened again on the file still gives every new row, a lifecycle event's
// too, a cursor above the deleted ones.
TEST_F(SqliteEventStoreTest, CursorsAreNotGivenAgainAfterEveryEventWasDeletedAndTheFileReopened) {
  absl::StatusOr<AppendResult> old =
      Append(binding_a_, "team-a", "100", {Event("o1"), Event("o2")}, kT0);
  ASSERT_TRUE(old.ok()) << old.status();
  ASSERT_GE(*store_->DeleteEventsReceivedBefore(kT0 + absl::Hours(1), 100), 2);
  {
    SQLite::Database db(dir_.File("events.db"), SQLite::OPEN_READONLY);
    ASSERT_EQ(db.execAndGet("SELECT count(*) FROM events").getInt(), 0);
  }
  Open();
  absl::StatusOr<AppendResult> after =
      Append(binding_a_, "team-a", "100", {Event("n1")}, kT0 + absl::Hours(2));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->last_cursor, old->last_cursor + 1);
  Bind("team-c", "300");
  const std::vector<StoredEvent> bound = *store_->ReadEvents({"team-c", "", 0, 10});
  ASSERT_THAT(bound, SizeIs(1));
  EXPECT_EQ(bound[0].cursor, old->last_cursor + 2);
}

// Without the floor's row the store cannot know which cursors retention deleted: it refuses
// the file rather than give them again.
TEST_F(SqliteEventStoreTest, AFileWithoutItsCursorFloorIsRefused) {
  store_.reset();
  {
    SQLite::Database db(dir_.File("events.db"), SQLite::OPEN_READWRITE);
    db.exec("DELETE FROM events_cursor_floor");
  }
  SqliteStore::Options options;
  options.path = dir_.File("events.db");
  const absl::StatusOr<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(options);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(opened.status().message(), HasSubstr("events_cursor_floor has no row"));
}

// Every row `sql` selects from the file at `path` (testing::SqliteRows).
std::vector<std::string> Rows(const std::string& path, const std::string& sql) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return testing::SqliteRows(db, sql);
}

// The events table's columns: name, type, NOT NULL, default and place in the key, in order.
constexpr char kEventColumns[] =
    "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('events') ORDER BY cid";

// Closes the store and takes its file back to version 12's events table, as migrations 1 to 12
// make it (in `v12`, a file of its own), with sqlite_sequence saying `given` was given.
void DowngradeToVersion12(std::unique_ptr<SqliteStore>& store, const std::string& path,
                          const std::string& v12, int64_t given) {
  store.reset();
  std::string table;
  {
    SQLite::Database db(v12, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    ASSERT_TRUE(MigrateSchema(db, 12).ok());
    table = db.execAndGet("SELECT sql FROM sqlite_schema WHERE name = 'events'").getString();
  }
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  ASSERT_EQ(absl::StrReplaceAll({{"CREATE TABLE events ", "CREATE TABLE events_v12 "}}, &table), 1);
  db.exec(table);
  db.exec(
      "INSERT INTO events_v12 SELECT * FROM events; DROP TABLE events; "
      "ALTER TABLE events_v12 RENAME TO events; DROP TABLE events_cursor_floor;");
  db.exec(absl::StrCat("UPDATE sqlite_sequence SET seq = ", given,
                       " WHERE name = 'events'; PRAGMA user_version = 12;"));
}

// Version 13 took AUTOINCREMENT off the events table. A file of version 12 keeps every row
// (lifecycle events too) with its cursor and every column, the table keeps the columns that
// migrations 2 and 9 gave it, and the store gives no cursor that sqlite_sequence says was given:
// here 5 beyond the newest row, as when version 8 deleted the newest rows as later copies.
TEST_F(SqliteEventStoreTest, AFileOfVersion12KeepsEveryRowAndGivesNoCursorAgain) {
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("e1"), Event("")}).ok());
  const std::string path = dir_.File("events.db");
  const std::vector<std::string> before = Rows(path, "SELECT * FROM events ORDER BY seq");
  // The binds' two lifecycle events and the two webhook events.
  ASSERT_THAT(before, SizeIs(4));
  const int64_t given = Read("team-a").back().cursor + 5;
  const std::string v12 = dir_.File("v12.db");
  ASSERT_NO_FATAL_FAILURE(DowngradeToVersion12(store_, path, v12, given));
  ASSERT_EQ(Rows(path, "SELECT * FROM events ORDER BY seq"), before);
  Open();
  EXPECT_EQ(Rows(path, "PRAGMA user_version"),
            std::vector<std::string>{absl::StrCat(CurrentSchemaVersion())});
  EXPECT_EQ(Rows(path,
                 "SELECT instr(sql, 'AUTOINCREMENT') FROM sqlite_schema "
                 "WHERE name = 'events'"),
            std::vector<std::string>{"0"});
  EXPECT_EQ(Rows(path, kEventColumns), Rows(v12, kEventColumns));
  EXPECT_EQ(Rows(path, "SELECT * FROM events ORDER BY seq"), before);
  // The copy went through the log, and the store emptied it before it opened for writes.
  EXPECT_EQ(std::filesystem::file_size(path + "-wal"), 0);
  absl::StatusOr<AppendResult> next = Append(binding_a_, "team-a", "100", {Event("e3")});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->last_cursor, given + 1);
  absl::StatusOr<AppendResult> again = Append(binding_a_, "team-a", "100", {Event("e1")});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->duplicates, 1);
}

// A migration runs with foreign keys off (version 13 rebuilds the events table), so it checks
// them before it commits: a file whose events name a binding it does not have (changed by hand)
// is refused, naming the table, and stays at version 12; the writer has foreign keys on again.
TEST_F(SqliteEventStoreTest, AMigrationThatWouldLeaveDanglingRowsIsRefusedAndRolledBack) {
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("e1")}).ok());
  const std::string path = dir_.File("events.db");
  ASSERT_NO_FATAL_FAILURE(DowngradeToVersion12(store_, path, dir_.File("v12.db"), 0));
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("UPDATE events SET binding_row_id = 999 WHERE webhook_event_id = 'e1'");
  }
  SqliteStore::Options options;
  options.path = path;
  const absl::StatusOr<std::unique_ptr<SqliteStore>> refused = SqliteStore::Open(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("has rows in events whose foreign key names no row of bindings after "
                        "migrating to schema version 13; the file stays at version 12"));
  EXPECT_EQ(Rows(path, "PRAGMA user_version"), std::vector<std::string>{"12"});
  EXPECT_EQ(Rows(path, "SELECT count(*) FROM sqlite_schema WHERE name = 'events_cursor_floor'"),
            std::vector<std::string>{"0"});
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec(absl::StrCat("UPDATE events SET binding_row_id = ", binding_a_,
                         " WHERE webhook_event_id = 'e1'"));
  }
  Open();
  // The writer refuses a row naming no binding: its foreign keys are on again.
  EXPECT_THAT(Append(999, "team-a", "100", {Event("e2")}).status().message(),
              HasSubstr("FOREIGN KEY constraint failed"));
}

// A binding's last signed request as the file holds it.
absl::Time StoredLastSigned(const std::string& path, int64_t binding) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement select(db,
                           "SELECT last_signed_at_us FROM webhook_activity "
                           "WHERE binding_row_id = ?");
  select.bind(1, binding);
  if (!select.executeStep()) return absl::InfinitePast();
  return absl::FromUnixMicros(select.getColumn(0).getInt64());
}

// Requests with events write the bindings' last signed requests once a second, all in one
// write (a row per request was a scattered page per commit); ReadActivity still answers with
// the newest, LINE's empty test request is written at once, and closing writes what is left.
TEST_F(SqliteEventStoreTest, TheLastSignedRequestsAreWrittenOnceASecondAndReadExactly) {
  const std::string path = dir_.File("events.db");
  const absl::Time t = kT0 + absl::Hours(1);
  const absl::Duration ms = absl::Milliseconds(1);
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("e1")}, t).ok());
  ASSERT_TRUE(Append(binding_b_, "team-b", "200", {Event("b1")}, t + 100 * ms).ok());
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("e2")}, t + 300 * ms).ok());
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("e3")}, t + 600 * ms).ok());
  EXPECT_EQ(store_->ReadActivity(binding_a_)->last_signed_request, t + 600 * ms);
  EXPECT_EQ(store_->ReadActivity(binding_b_)->last_signed_request, t + 100 * ms);
  EXPECT_EQ(StoredLastSigned(path, binding_a_), t);
  EXPECT_EQ(StoredLastSigned(path, binding_b_), absl::InfinitePast());
  // A second after the last batch: this request's write takes every binding's newest.
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {Event("e4")}, t + 1000 * ms).ok());
  EXPECT_EQ(StoredLastSigned(path, binding_a_), t + 1000 * ms);
  EXPECT_EQ(StoredLastSigned(path, binding_b_), t + 100 * ms);
  ASSERT_TRUE(Append(binding_a_, "team-a", "100", {}, t + 1001 * ms).ok());
  EXPECT_EQ(StoredLastSigned(path, binding_a_), t + 1001 * ms);
  EXPECT_EQ(store_->ReadActivity(binding_a_)->last_signed_request, t + 1001 * ms);
  ASSERT_TRUE(Append(binding_b_, "team-b", "200", {Event("b2")}, t + 1500 * ms).ok());
  EXPECT_EQ(StoredLastSigned(path, binding_b_), t + 100 * ms);
  // Closing writes it; a restart answers from the file.
  Open();
  EXPECT_EQ(StoredLastSigned(path, binding_b_), t + 1500 * ms);
  EXPECT_EQ(store_->ReadActivity(binding_a_)->last_signed_request, t + 1001 * ms);
  EXPECT_EQ(store_->ReadActivity(binding_b_)->last_signed_request, t + 1500 * ms);
}

}  // namespace
}  // namespace linechannel::storage
