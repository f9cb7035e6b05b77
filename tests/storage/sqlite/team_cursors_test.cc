// A team's cursors as one value: what EncodeCursors writes DecodeCursors reads back, a damaged
// value is refused, the SQL aggregate writes what EncodeCursors does, and the walk over the
// catch-ups' rows gives a team its own cursors, in order, within the bounds asked.

#include "storage/sqlite/team_cursors.h"

#include <cstdint>
#include <string>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite/schema.h"
#include "tests/support/temp_dir.h"

namespace linechannel::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(TeamCursorsTest, WhatIsEncodedDecodesToTheSameCursors) {
  const std::vector<int64_t> cursors = {
      1, 2, 3, 130, 16'513, 16'514, 2'113'666, 1'000'000'000'000, INT64_MAX};
  const std::string encoded = EncodeCursors(cursors);
  // One byte for each gap under 128: the first three, and the one after 16,513.
  EXPECT_EQ(encoded.substr(0, 3), std::string("\x01\x01\x01", 3));
  absl::StatusOr<std::vector<int64_t>> decoded = DecodeCursors(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, cursors);
  EXPECT_EQ(EncodeCursors({}), "");
  EXPECT_THAT(*DecodeCursors(""), IsEmpty());
}

TEST(TeamCursorsTest, ADamagedValueIsRefusedAsDataLoss) {
  const std::string good = EncodeCursors({5, 300});
  for (const std::string& damaged : {
           good.substr(0, good.size() - 1),  // cut inside the last varint
           std::string("\x05\x00", 2),       // a gap of 0: a cursor twice
           std::string(9, '\xff') + "\x01",  // a varint of ten bytes
           std::string("\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x01", 10),  // past 2^63
       }) {
    const absl::StatusOr<std::vector<int64_t>> decoded = DecodeCursors(damaged);
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss)
        << absl::BytesToHexString(damaged);
  }
}

class TeamCursorsSqlTest : public ::testing::Test {
 protected:
  TeamCursorsSqlTest()
      : db_(dir_.File("cursors.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) {
    EXPECT_TRUE(MigrateSchema(db_).ok());
  }

  // A catch-up's row of a team, as the event index writes it (`newest`: the catch-up becomes
  // the team's newest).
  void AddRow(int64_t through, const std::string& team, const std::vector<int64_t>& cursors,
              bool newest = true) {
    SQLite::Statement insert(
        db_, "INSERT INTO events_team_cursors (through_seq, team_id, cursors) VALUES (?, ?, ?)");
    insert.bind(1, through);
    insert.bind(2, team);
    const std::string encoded = EncodeCursors(cursors);
    insert.bind(3, encoded.data(), static_cast<int>(encoded.size()));
    insert.exec();
    if (!newest) return;
    SQLite::Statement set_newest(db_,
                                 "INSERT OR REPLACE INTO events_team_newest (team_id, through_seq) "
                                 "VALUES (?, ?)");
    set_newest.bind(1, team);
    set_newest.bind(2, through);
    set_newest.exec();
  }

  absl::Status WalkStatus(const std::string& team, int64_t after, int64_t through,
                          std::vector<int64_t>* seen) {
    return ForEachTeamCursor(db_, team, after, through, [&](int64_t c) {
      seen->push_back(c);
      return true;
    });
  }

  // The team's cursors after `after` through `through`, at most `limit` of them.
  std::vector<int64_t> Walk(const std::string& team, int64_t after, int64_t through,
                            size_t limit = 1000) {
    std::vector<int64_t> seen;
    const absl::Status walked = ForEachTeamCursor(db_, team, after, through, [&](int64_t c) {
      seen.push_back(c);
      return seen.size() < limit;
    });
    EXPECT_TRUE(walked.ok()) << walked;
    return seen;
  }

  testing::TempDir dir_;
  SQLite::Database db_;
};

TEST_F(TeamCursorsSqlTest, TheAggregateEncodesAGroupInAnyOrderOnce) {
  SQLite::Statement select(
      db_,
      "SELECT team_cursors(c) FROM (SELECT 300 AS c UNION ALL SELECT 5 UNION ALL "
      "SELECT 300 UNION ALL SELECT 7)");
  ASSERT_TRUE(select.executeStep());
  const SQLite::Column value = select.getColumn(0);
  EXPECT_EQ(std::string(static_cast<const char*>(value.getBlob()), value.getBytes()),
            EncodeCursors({5, 7, 300}));
}

TEST_F(TeamCursorsSqlTest, TheAggregateRefusesWhatIsNoCursor) {
  // The last fails after a row was collected: its state is freed all the same (the sanitizer
  // build finds a leak).
  for (const char* sql : {"SELECT team_cursors(0)", "SELECT team_cursors(-3)",
                          "SELECT team_cursors('12')", "SELECT team_cursors(1.5)",
                          "SELECT team_cursors(c) FROM (SELECT 5 AS c UNION ALL SELECT NULL)"}) {
    EXPECT_THROW(db_.execAndGet(sql), SQLite::Exception) << sql;
  }
}

TEST_F(TeamCursorsSqlTest, AWalkGivesTheTeamsOwnCursorsInOrderWithinItsBounds) {
  AddRow(4, "team-a", {1, 3});
  AddRow(4, "team-b", {2, 4});
  AddRow(8, "team-b", {5, 6, 7, 8});  // None of team-a's.
  AddRow(12, "team-a", {9, 12});
  AddRow(12, "team-c", {10, 11});
  AddRow(16, "team-a", {13, 16});  // Above the watermark passed below.
  EXPECT_THAT(Walk("team-a", 0, 12), ElementsAre(1, 3, 9, 12));
  EXPECT_THAT(Walk("team-b", 0, 12), ElementsAre(2, 4, 5, 6, 7, 8));
  // After a cursor inside a row, and after a row's last.
  EXPECT_THAT(Walk("team-a", 1, 12), ElementsAre(3, 9, 12));
  EXPECT_THAT(Walk("team-a", 4, 12), ElementsAre(9, 12));
  EXPECT_THAT(Walk("team-a", 9, 16), ElementsAre(12, 13, 16));
  EXPECT_THAT(Walk("team-a", 0, 12, /*limit=*/3), ElementsAre(1, 3, 9));
  EXPECT_THAT(Walk("team-a", 12, 12), IsEmpty());
  EXPECT_THAT(Walk("team-x", 0, 16), IsEmpty());
}

// A walk ends at the team's newest catch-up: a quiet team's stream, which reads again after
// every commit, does not step through every catch-up since its last event.
TEST_F(TeamCursorsSqlTest, AWalkEndsAtTheTeamsNewestCatchUp) {
  AddRow(4, "team-a", {1, 3});
  AddRow(8, "team-b", {5, 6, 7, 8});
  // A row the team's newest does not name is past the walk's end.
  AddRow(12, "team-a", {9, 12}, /*newest=*/false);
  EXPECT_THAT(Walk("team-a", 0, 12), ElementsAre(1, 3));
  AddRow(16, "team-a", {13, 16});
  EXPECT_THAT(Walk("team-a", 0, 12), ElementsAre(1, 3, 9, 12));
  EXPECT_THAT(Walk("team-a", 3, 16), ElementsAre(9, 12, 13, 16));
}

TEST_F(TeamCursorsSqlTest, AWalkOverADamagedRowFailsAsDataLoss) {
  AddRow(4, "team-a", {1, 3});
  db_.exec("INSERT INTO events_team_cursors VALUES (8, 'team-a', x'0500')");
  db_.exec("UPDATE events_team_newest SET through_seq = 8");
  std::vector<int64_t> seen;
  EXPECT_EQ(WalkStatus("team-a", 0, 8, &seen).code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(seen, ElementsAre(1, 3));
}

// A cursor above its catch-up's last, or not above the catch-up before, would be read out of
// order or twice (again from the tail): the walk refuses it.
TEST_F(TeamCursorsSqlTest, ACursorOutsideItsCatchUpFailsAsDataLoss) {
  AddRow(4, "team-a", {1, 3});
  AddRow(8, "team-a", {9});  // Above 8.
  std::vector<int64_t> seen;
  EXPECT_EQ(WalkStatus("team-a", 0, 8, &seen).code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(seen, ElementsAre(1, 3));
  AddRow(12, "team-b", {2, 10});  // 2 is in the catch-up through 4.
  seen.clear();
  EXPECT_EQ(WalkStatus("team-b", 0, 12, &seen).code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(seen, IsEmpty());
  // The first catch-up of a walk may hold cursors up to the walk's start: not an error.
  seen.clear();
  EXPECT_TRUE(WalkStatus("team-a", 2, 4, &seen).ok());
  EXPECT_THAT(seen, ElementsAre(3));
}

}  // namespace
}  // namespace linechannel::storage
