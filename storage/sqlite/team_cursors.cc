#include "storage/sqlite/team_cursors.h"

#include <sqlite3.h>

#include <algorithm>
#include <memory>

#include "SQLiteCpp/Statement.h"
#include "absl/strings/str_cat.h"

namespace linechannel::storage {
namespace {

// A varint of a positive int64 takes at most nine bytes of seven bits.
constexpr int kMaxVarintBytes = 9;

// The aggregate's state, in SQLite's per-group context memory: created by the first row.
using Collected = std::vector<int64_t>;

void CollectCursor(sqlite3_context* context, int /*argc*/, sqlite3_value** argv) {
  auto** collected =
      static_cast<Collected**>(sqlite3_aggregate_context(context, sizeof(Collected*)));
  if (collected == nullptr) {
    sqlite3_result_error_nomem(context);
    return;
  }
  if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER || sqlite3_value_int64(argv[0]) <= 0) {
    sqlite3_result_error(context, "team_cursors: a cursor must be a positive integer", -1);
    return;
  }
  if (*collected == nullptr) *collected = new Collected();
  (*collected)->push_back(sqlite3_value_int64(argv[0]));
}

// SQLite calls this once per group, also when the statement stops early, so the state is
// freed here.
void EncodeCollected(sqlite3_context* context) {
  auto** state = static_cast<Collected**>(sqlite3_aggregate_context(context, 0));
  std::unique_ptr<Collected> collected(state == nullptr ? nullptr : *state);
  if (collected == nullptr) {
    sqlite3_result_null(context);
    return;
  }
  std::sort(collected->begin(), collected->end());
  collected->erase(std::unique(collected->begin(), collected->end()), collected->end());
  const std::string encoded = EncodeCursors(*collected);
  sqlite3_result_blob64(context, encoded.data(), encoded.size(), SQLITE_TRANSIENT);
}

}  // namespace

std::string EncodeCursors(const std::vector<int64_t>& ascending) {
  std::string out;
  out.reserve(ascending.size() * 2);
  int64_t before = 0;
  for (const int64_t cursor : ascending) {
    auto gap = static_cast<uint64_t>(cursor - before);
    before = cursor;
    while (gap >= 0x80) {
      out.push_back(static_cast<char>((gap & 0x7f) | 0x80));
      gap >>= 7;
    }
    out.push_back(static_cast<char>(gap));
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> DecodeCursors(absl::string_view encoded) {
  std::vector<int64_t> cursors;
  int64_t cursor = 0;
  size_t i = 0;
  while (i < encoded.size()) {
    uint64_t gap = 0;
    int shift = 0;
    for (int bytes = 0;; ++bytes) {
      if (i == encoded.size() || bytes == kMaxVarintBytes) {
        return absl::DataLossError(
            absl::StrCat("storage: a team's cursor list is cut off at byte ", i));
      }
      const auto byte = static_cast<uint8_t>(encoded[i++]);
      gap |= static_cast<uint64_t>(byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) == 0) break;
    }
    // Cursors grow, and stay below 2^63.
    if (gap == 0 || gap > static_cast<uint64_t>(INT64_MAX - cursor)) {
      return absl::DataLossError(
          absl::StrCat("storage: a team's cursor list does not grow at byte ", i));
    }
    cursor += static_cast<int64_t>(gap);
    cursors.push_back(cursor);
  }
  return cursors;
}

absl::Status RegisterTeamCursorsFunction(sqlite3* db) {
  const int rc = sqlite3_create_function_v2(
      db, "team_cursors", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, nullptr,
      nullptr, CollectCursor, EncodeCollected, nullptr);
  if (rc != SQLITE_OK) {
    return absl::InternalError(
        absl::StrCat("storage: registering team_cursors(): ", sqlite3_errstr(rc)));
  }
  return absl::OkStatus();
}

absl::Status ForEachTeamCursor(SQLite::Database& db, const std::string& team_id, int64_t after,
                               int64_t through, absl::FunctionRef<bool(int64_t)> visit) {
  SQLite::Statement newest(db, "SELECT through_seq FROM events_team_newest WHERE team_id = ?");
  newest.bindNoCopy(1, team_id);
  if (!newest.executeStep()) return absl::OkStatus();
  through = std::min(through, newest.getColumn(0).getInt64());
  // The catch-ups are stepped through one B-tree seek at a time: a range scan of them would
  // read every other team's rows as well.
  SQLite::Statement next_catch_up(
      db,
      "SELECT through_seq FROM events_team_cursors WHERE through_seq > ? AND through_seq <= ? "
      "ORDER BY through_seq LIMIT 1");
  SQLite::Statement team_row(
      db, "SELECT cursors FROM events_team_cursors WHERE through_seq = ? AND team_id = ?");
  team_row.bindNoCopy(2, team_id);
  int64_t at = after;
  // The catch-up before this one, once the walk has seen it: its cursors are all below.
  bool stepped = false;
  while (true) {
    next_catch_up.reset();
    next_catch_up.bind(1, at);
    next_catch_up.bind(2, through);
    if (!next_catch_up.executeStep()) return absl::OkStatus();
    const int64_t before = at;
    at = next_catch_up.getColumn(0).getInt64();
    const bool first = !stepped;
    stepped = true;
    team_row.reset();
    team_row.bind(1, at);
    if (!team_row.executeStep()) continue;
    const SQLite::Column column = team_row.getColumn(0);
    absl::StatusOr<std::vector<int64_t>> cursors = DecodeCursors(absl::string_view(
        static_cast<const char*>(column.getBlob()), static_cast<size_t>(column.getBytes())));
    if (!cursors.ok()) return cursors.status();
    for (const int64_t cursor : *cursors) {
      // A cursor outside its catch-up would be read out of order, or again from the tail.
      if (cursor > at || (!first && cursor <= before)) {
        return absl::DataLossError(absl::StrCat("storage: the catch-up through ", at, " of team ",
                                                team_id, " holds cursor ", cursor, ", outside it"));
      }
      if (cursor > after && !visit(cursor)) return absl::OkStatus();
    }
  }
}

}  // namespace linechannel::storage
