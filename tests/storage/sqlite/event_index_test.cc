// Where a catch-up of the event index gets its keys: from the rows as the writes stored them
// when those are exactly the rows after the watermark, and from the file whenever they may not
// be. The tests tell the index a team the file does not have ("told"), so that the tables show
// which of the two the keys came from.

#include "storage/sqlite/event_index.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "SQLiteCpp/Transaction.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite/schema.h"
#include "tests/storage/sqlite/team_cursor_keys.h"
#include "tests/support/temp_dir.h"

namespace linechannel::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

class EventIndexTest : public ::testing::Test {
 protected:
  EventIndexTest() : db_(dir_.File("index.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) {
    db_.exec("PRAGMA journal_mode = WAL");
    EXPECT_TRUE(MigrateSchema(db_).ok());
  }

  // Loads the index, catching up once `batch` rows are in the tail, in `pieces` pieces.
  void Load(int batch, int pieces = 1) { index_ = *EventIndex::Load(db_, batch, pieces); }

  // Stores a row of `team` in the file (not telling the index); returns its cursor.
  int64_t InsertRow(const std::string& team, const std::string& id) {
    SQLite::Statement insert(
        db_,
        "INSERT INTO events (binding_row_id, team_id, channel_id, webhook_event_id, type, "
        "timestamp_ms, mode, redelivery, source_type, source_user_id, source_group_id, "
        "source_room_id, received_at_us, raw_json) "
        "VALUES (1, ?, '100', ?, 'message', 0, 'active', 0, 'user', 'U', '', '', 0, '{}')");
    insert.bind(1, team);
    insert.bind(2, id);
    insert.exec();
    return db_.getLastInsertRowid();
  }

  // Stores rows of `team` and tells the index they are of `told`.
  void StoreRows(const std::string& team, const std::string& told, std::vector<std::string> ids) {
    std::vector<EventIndex::TailRow> rows;
    for (std::string& id : ids) {
      const int64_t seq = InsertRow(team, id);
      rows.push_back({seq, told, "100", std::move(id)});
    }
    index_->Stored(std::move(rows));
  }

  // A catch-up of every row after the watermark, committed, in as many pieces as loaded with.
  void CatchUp(int pieces = 1) {
    ASSERT_TRUE(index_->PieceDue(LastCursor()));
    for (int i = 1; i <= pieces; ++i) {
      SQLite::Transaction transaction(db_);
      const EventIndex::Piece piece = index_->IndexPiece(db_);
      transaction.commit();
      index_->PieceDone(true, piece);
      ASSERT_EQ(piece.finished, i == pieces);
    }
  }

  // A piece whose insert into `table` fails (a full disk, say), rolled back.
  void FailAPiece(const std::string& table) {
    db_.exec(absl::StrCat("CREATE TRIGGER refuse BEFORE INSERT ON ", table,
                          " BEGIN SELECT RAISE(ABORT, 'refused'); END"));
    {
      SQLite::Transaction transaction(db_);
      EXPECT_THROW(index_->IndexPiece(db_), SQLite::Exception);
    }
    index_->PieceDone(false, EventIndex::Piece{});
    db_.exec("DROP TRIGGER refuse");
  }

  int64_t LastCursor() { return db_.execAndGet(kLastEventCursor).getInt64(); }

  std::vector<std::pair<std::string, int64_t>> ByTeam() { return TeamCursorKeys(db_); }

  int TeamRows() { return db_.execAndGet("SELECT count(*) FROM events_team_cursors").getInt(); }

  testing::TempDir dir_;
  SQLite::Database db_;
  std::unique_ptr<EventIndex> index_;
};

TEST_F(EventIndexTest, ACatchUpTakesTheKeysOfTheRowsAsTheWritesStoredThem) {
  Load(/*batch=*/3);
  StoreRows("team-a", "told", {"e1", "e2"});
  StoreRows("team-a", "told", {"e3"});
  CatchUp();
  EXPECT_THAT(ByTeam(), ElementsAre(Pair("told", 1), Pair("told", 2), Pair("told", 3)));
  EXPECT_EQ(db_.execAndGet("SELECT count(*) FROM events_once_per_oa").getInt(), 3);
  EXPECT_TRUE(index_->Seen("100", "e2"));
  // The next catch-up starts where this one ended.
  StoreRows("team-b", "told-b", {"e4", "e5", "e6"});
  CatchUp();
  EXPECT_THAT(ByTeam(), ElementsAre(Pair("told", 1), Pair("told", 2), Pair("told", 3),
                                    Pair("told-b", 4), Pair("told-b", 5), Pair("told-b", 6)));
}

TEST_F(EventIndexTest, ARowStoredWithoutTheIndexKnowingSendsTheCatchUpToTheFile) {
  Load(/*batch=*/3);
  StoreRows("team-a", "told", {"e1"});
  InsertRow("team-b", "e2");  // As a lifecycle event is stored.
  StoreRows("team-a", "told", {"e3"});
  CatchUp();
  EXPECT_THAT(ByTeam(), ElementsAre(Pair("team-a", 1), Pair("team-b", 2), Pair("team-a", 3)));
  // The same when that row is the last.
  StoreRows("team-a", "told", {"e4", "e5"});
  InsertRow("team-b", "e6");
  CatchUp();
  EXPECT_THAT(ByTeam(), ElementsAre(Pair("team-a", 1), Pair("team-b", 2), Pair("team-a", 3),
                                    Pair("team-a", 4), Pair("team-a", 5), Pair("team-b", 6)));
}

TEST_F(EventIndexTest, AfterARollbackTheCatchUpReadsTheFile) {
  Load(/*batch=*/3);
  // A write's row rolled back after it told the index, and its cursor given again (as SQLite
  // gave rowids before the store gave cursors itself); then a row the index is not told of, so
  // that the index has as many rows as the file: the index sees the cursors go back.
  {
    SQLite::Transaction transaction(db_);
    StoreRows("team-a", "told", {"e1"});
  }
  StoreRows("team-b", "told-b", {"e2"});
  InsertRow("team-b", "e3");
  StoreRows("team-b", "told-b", {"e4"});
  CatchUp();
  EXPECT_THAT(ByTeam(), ElementsAre(Pair("team-b", 1), Pair("team-b", 2), Pair("team-b", 3)));

  // A write that failed with its transaction after telling the index (Abandoned), though
  // these rows are in the file: whichever rows are gone, the file has the truth.
  StoreRows("team-a", "told", {"e5", "e6", "e7"});
  index_->Abandoned(0, 0);
  CatchUp();
  EXPECT_THAT(ByTeam(), ElementsAre(Pair("team-b", 1), Pair("team-b", 2), Pair("team-b", 3),
                                    Pair("team-a", 4), Pair("team-a", 5), Pair("team-a", 6)));
}

// A failed write's keys are forgotten by their cursors; the keys of the writes before and
// after it (which may share its transaction and commit) are still seen.
TEST_F(EventIndexTest, AnAbandonedWriteForgetsItsOwnKeysOnly) {
  Load(/*batch=*/100);
  index_->Add("100", "e1", 1);
  index_->Add("100", "e2", 2);
  index_->Add("200", "e3", 3);
  index_->Add("100", "e4", 4);
  index_->Abandoned(2, 3);
  EXPECT_TRUE(index_->Seen("100", "e1"));
  EXPECT_FALSE(index_->Seen("100", "e2"));
  EXPECT_FALSE(index_->Seen("200", "e3"));
  EXPECT_TRUE(index_->Seen("100", "e4"));
  EXPECT_EQ(index_->tail_keys(), 2U);
  // A write that added no key takes none away.
  index_->Abandoned(0, 0);
  EXPECT_EQ(index_->tail_keys(), 2U);
}

// The same webhookEventId of two OAs is two keys.
TEST_F(EventIndexTest, AKeyIsOfItsChannelAndId) {
  Load(/*batch=*/100);
  index_->Add("100", "e1", 1);
  EXPECT_TRUE(index_->Seen("100", "e1"));
  EXPECT_FALSE(index_->Seen("200", "e1"));
  EXPECT_FALSE(index_->Seen("100", "e10"));
  EXPECT_FALSE(index_->Seen("1000", "e1"));
}

// Once-per-OA keys go in many to a statement, and the rest one at a time: every one of them
// arrives, in each piece (two of 75 keys: 64 and 11). The teams' rows go in with the last
// piece, with the watermark: one row per team.
TEST_F(EventIndexTest, ACatchUpOfManyRowsGivesEachItsKeys) {
  constexpr int kRows = 150;
  const auto told = [](int i) { return std::string(i % 2 == 0 ? "told-a" : "told-b"); };
  Load(/*batch=*/kRows, /*pieces=*/2);
  for (int i = 0; i < kRows; ++i) StoreRows("team-a", told(i), {absl::StrCat("e", 1000 + i)});
  ASSERT_TRUE(index_->PieceDue(LastCursor()));
  {
    SQLite::Transaction transaction(db_);
    const EventIndex::Piece first = index_->IndexPiece(db_);
    transaction.commit();
    index_->PieceDone(true, first);
    ASSERT_FALSE(first.finished);
  }
  EXPECT_EQ(db_.execAndGet("SELECT count(*) FROM events_once_per_oa").getInt(), kRows / 2);
  EXPECT_EQ(TeamRows(), 0);
  CatchUp(/*pieces=*/1);
  EXPECT_EQ(TeamRows(), 2);
  EXPECT_EQ(index_->indexed_through(), kRows);
  const std::vector<std::pair<std::string, int64_t>> by_team = ByTeam();
  ASSERT_EQ(by_team.size(), kRows);
  for (int i = 0; i < kRows; ++i) EXPECT_EQ(by_team[i], std::make_pair(told(i), int64_t{i + 1}));
  EXPECT_EQ(db_.execAndGet("SELECT count(*) FROM events_once_per_oa WHERE channel_id = '100' "
                           "AND webhook_event_id BETWEEN 'e1000' AND 'e1149'")
                .getInt(),
            kRows);
}

// A piece whose insert fails (a full disk, say) leaves its statement failed; the next piece,
// which uses only the other statement of that table, must not take that error for its own.
TEST_F(EventIndexTest, APieceThatFailedLeavesNoErrorToTheNext) {
  Load(/*batch=*/3);
  StoreRows("team-a", "told", {"e1", "e2", "e3"});
  FailAPiece("events_once_per_oa");
  // 64 rows in all: one statement of 64 once-per-OA keys, none one at a time.
  for (int i = 4; i <= 64; ++i) StoreRows("team-a", "told", {absl::StrCat("e", 1000 + i)});
  CatchUp();
  EXPECT_EQ(ByTeam().size(), 64u);
  EXPECT_EQ(db_.execAndGet("SELECT count(*) FROM events_once_per_oa").getInt(), 64);
}

// The last piece writes the teams' rows; if that fails, so does the piece, and its once-per-OA
// keys and watermark with it: the catch-up is done again, whole.
TEST_F(EventIndexTest, ALastPieceWhoseTeamRowsFailIsDoneAgain) {
  Load(/*batch=*/3);
  StoreRows("team-a", "told", {"e1", "e2", "e3"});
  FailAPiece("events_team_cursors");
  EXPECT_EQ(index_->indexed_through(), 0);
  EXPECT_EQ(db_.execAndGet("SELECT count(*) FROM events_once_per_oa").getInt(), 0);
  CatchUp();
  // From the file: the rows the index was told of went with the catch-up that failed.
  EXPECT_THAT(ByTeam(), ElementsAre(Pair("team-a", 1), Pair("team-a", 2), Pair("team-a", 3)));
  EXPECT_EQ(index_->indexed_through(), 3);
}

// A team row above the watermark is of no catch-up that finished (none of ours leaves one: a
// file changed by hand, or a bug): the next catch-up replaces it, so no cursor is held twice.
TEST_F(EventIndexTest, ATeamRowAboveTheWatermarkGivesWayToTheCatchUp) {
  Load(/*batch=*/3);
  StoreRows("team-a", "told", {"e1", "e2"});
  db_.exec(
      absl::StrCat("INSERT INTO events_team_cursors (through_seq, team_id, cursors) VALUES "
                   "(2, 'told', x'",
                   absl::BytesToHexString(EncodeCursors({1, 2})), "')"));
  StoreRows("team-a", "told", {"e3"});
  CatchUp();
  EXPECT_THAT(ByTeam(), ElementsAre(Pair("told", 1), Pair("told", 2), Pair("told", 3)));
  EXPECT_EQ(TeamRows(), 1);
}

// Retention indexes the tail, then deletes expired events with their keys: an id it deleted is
// new again, one it kept is not.
TEST_F(EventIndexTest, AfterRetentionTheKeysItDeletedAreNotSeen) {
  Load(/*batch=*/2);
  StoreRows("team-a", "told", {"e1", "e2"});
  CatchUp();
  SQLite::Transaction transaction(db_);
  const int64_t through = index_->CatchUp(db_);
  db_.exec("DELETE FROM events_once_per_oa WHERE webhook_event_id = 'e2'");
  transaction.commit();
  index_->CaughtUp(true, through);
  EXPECT_FALSE(index_->Seen("100", "e2"));
  EXPECT_TRUE(index_->Seen("100", "e1"));
}

TEST_F(EventIndexTest, ACatchUpThatDidNotCommitIsDoneAgainFromTheFile) {
  Load(/*batch=*/2);
  StoreRows("team-a", "told", {"e1", "e2"});
  {
    SQLite::Transaction transaction(db_);
    const EventIndex::Piece piece = index_->IndexPiece(db_);
    index_->PieceDone(false, piece);
  }
  EXPECT_TRUE(ByTeam().empty());
  CatchUp();
  EXPECT_THAT(ByTeam(), ElementsAre(Pair("team-a", 1), Pair("team-a", 2)));
}

TEST_F(EventIndexTest, TheTailReadAtLoadIsTheNextCatchUpsKeys) {
  Load(/*batch=*/100);
  StoreRows("team-a", "told", {"e1", "e2"});
  Load(/*batch=*/2);
  EXPECT_TRUE(index_->Seen("100", "e1"));
  // Changed after the load, so that the keys show whether they are what the load read.
  db_.exec("UPDATE events SET team_id = 'changed'");
  CatchUp();
  EXPECT_THAT(ByTeam(), ElementsAre(Pair("team-a", 1), Pair("team-a", 2)));
  StoreRows("team-a", "told", {"e3", "e4"});
  CatchUp();
  EXPECT_THAT(ByTeam(),
              ElementsAre(Pair("team-a", 1), Pair("team-a", 2), Pair("told", 3), Pair("told", 4)));
}

}  // namespace
}  // namespace linechannel::storage
