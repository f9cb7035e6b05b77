#ifndef LINECHANNEL_STORAGE_SQLITE_EVENT_CURSORS_H_
#define LINECHANNEL_STORAGE_SQLITE_EVENT_CURSORS_H_

#include <cstdint>

#include "SQLiteCpp/Database.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace linechannel::storage {

// The floor: no cursor at or below it is given again (bench_fill_store reads it too).
inline constexpr char kEventCursorFloor[] = "SELECT seq FROM events_cursor_floor WHERE one = 1";

// Gives each new row of the events table its cursor (events.seq): one more than the last given,
// so cursors grow in commit order (one thread writes) and none is given twice, not even after
// retention deleted the newest rows. Rows rolled back leave their cursors unused.
//
// The table had AUTOINCREMENT until version 13 for the same promise, and it cost every event
// an INSERT of its own into sqlite_sequence: about a tenth of the commit thread's time per
// event, and a page of the log per commit. Here the promise costs a counter in memory, and a
// floor in the file (events_cursor_floor) that retention raises before it deletes, so that a
// restart after every row was deleted does not begin again below it.
//
// Used only on the commit queue's thread (and before it starts): not thread-safe. No other
// process writes the file meanwhile: channeld holds its data directory's lock, and
// bench_fill_store works on a stopped server's file.
class EventCursors {
 public:
  // Reads the greatest cursor given before: the newest row's, or the floor if above it.
  // DATA_LOSS if the floor's row is gone.
  static absl::StatusOr<EventCursors> Load(SQLite::Database& writer);

  // A cursor for a row about to be inserted.
  int64_t Take() { return ++last_given_; }

  // The greatest cursor given so far (its row may have been rolled back since).
  int64_t last_given() const { return last_given_; }

  // Raises the floor to every cursor given so far, in the transaction of a write that is about
  // to delete events. DATA_LOSS if the floor's row is gone; throws SQLite::Exception.
  absl::Status KeepAboveDeleted(SQLite::Database& db) const;

 private:
  explicit EventCursors(int64_t last_given) : last_given_(last_given) {}

  int64_t last_given_;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_EVENT_CURSORS_H_
