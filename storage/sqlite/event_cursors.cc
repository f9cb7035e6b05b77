#include "storage/sqlite/event_cursors.h"

#include "SQLiteCpp/Statement.h"
#include "storage/sqlite/sqlite_errors.h"

namespace linechannel::storage {

absl::StatusOr<EventCursors> EventCursors::Load(SQLite::Database& writer) {
  try {
    return EventCursors(writer
                            .execAndGet("SELECT max(coalesce((SELECT max(seq) FROM events), 0), "
                                        "(SELECT seq FROM events_cursor_floor WHERE one = 1))")
                            .getInt64());
  } catch (const SQLite::Exception& e) {
    return StatusFromSqlite(e, "reading the last event cursor");
  }
}

void EventCursors::KeepAboveDeleted(SQLite::Database& db) const {
  SQLite::Statement raise(db, "UPDATE events_cursor_floor SET seq = max(seq, ?) WHERE one = 1");
  raise.bind(1, last_given_);
  raise.exec();
}

}  // namespace linechannel::storage
