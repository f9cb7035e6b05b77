#ifndef LINECHANNEL_STORAGE_SQLITE_TEAM_CURSORS_H_
#define LINECHANNEL_STORAGE_SQLITE_TEAM_CURSORS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct sqlite3;

namespace linechannel::storage {

// The way to a team's events: events_team_cursors holds, per catch-up of the event index
// (event_index.h) and team, that team's cursors among the catch-up's rows, as one value. Keyed
// by the catch-up's last cursor first, a catch-up's rows go in after the last one's, onto a few
// pages; one key per event, keyed by team, had put a page per team into every catch-up.
// events_team_newest names each team's last catch-up with a row of it, so that a walk stops
// there: a stream of a quiet team reads again after every commit, from its last event.
//
// A row (through_seq, team_id, cursors) holds the team's cursors c with p < c <= through_seq,
// where p is the through_seq of the catch-up before; their events may have been deleted since.

// The cursors, ascending, as stored: each one's gap from the one before (the first's from 0),
// as a base-128 varint (seven bits a byte, low bits first, the high bit set on all but a
// value's last byte). A catch-up's cursors lie close together: most gaps take one byte.
std::string EncodeCursors(const std::vector<int64_t>& ascending);
// DATA_LOSS if `encoded` is not what EncodeCursors makes of cursors that grow.
absl::StatusOr<std::vector<int64_t>> DecodeCursors(absl::string_view encoded);

// Makes team_cursors(seq) known to the connection: the aggregate that gives a group's cursors
// (in any order) as EncodeCursors does, for SQL that fills events_team_cursors. Direct use
// only: the schema's triggers and views cannot call it.
absl::Status RegisterTeamCursorsFunction(sqlite3* db);

// Calls `visit` with each of the team's cursors after `after`, ascending, from the rows of
// catch-ups up to `through` (the watermark) and the team's newest, until it returns false.
// Each catch-up on the way costs two B-tree look-ups, whether it has the team or not. DATA_LOSS
// if a row's value is damaged or holds a cursor outside its catch-up.
absl::Status ForEachTeamCursor(SQLite::Database& db, const std::string& team_id, int64_t after,
                               int64_t through, absl::FunctionRef<bool(int64_t)> visit);

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_TEAM_CURSORS_H_
