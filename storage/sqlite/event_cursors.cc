#include "storage/sqlite/event_cursors.h"

#include <algorithm>

#include "SQLiteCpp/Statement.h"
#include "storage/sqlite/event_index.h"
#include "storage/sqlite/sqlite_errors.h"

namespace linechannel::storage {
namespace {

// Without the floor's row, a restart after retention deleted the newest events would give
// their cursors again: refused, never guessed at.
absl::Status NoFloor() {
  return absl::DataLossError(
      "storage: events_cursor_floor has no row, so the cursors of deleted events are unknown");
}

}  // namespace

absl::StatusOr<EventCursors> EventCursors::Load(SQLite::Database& writer) {
  try {
    SQLite::Statement floor(writer, kEventCursorFloor);
    if (!floor.executeStep()) return NoFloor();
    return EventCursors(
        std::max(floor.getColumn(0).getInt64(), writer.execAndGet(kLastEventCursor).getInt64()));
  } catch (const SQLite::Exception& e) {
    return StatusFromSqlite(e, "reading the last event cursor");
  }
}

absl::Status EventCursors::KeepAboveDeleted(SQLite::Database& db) const {
  SQLite::Statement raise(db, "UPDATE events_cursor_floor SET seq = max(seq, ?) WHERE one = 1");
  raise.bind(1, last_given_);
  if (raise.exec() != 1) return NoFloor();
  return absl::OkStatus();
}

}  // namespace linechannel::storage
