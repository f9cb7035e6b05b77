#include "storage/sqlite/event_index.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/sqlite/sqlite_errors.h"

namespace linechannel::storage {

absl::StatusOr<std::unique_ptr<EventIndex>> EventIndex::Load(SQLite::Database& writer,
                                                             int batch_rows) {
  try {
    const int64_t through =
        writer.execAndGet("SELECT through_seq FROM events_indexed WHERE one = 1").getInt64();
    auto index = std::unique_ptr<EventIndex>(new EventIndex(writer, batch_rows, through));
    SQLite::Statement tail(writer,
                           "SELECT channel_id, webhook_event_id, seq FROM events "
                           "WHERE seq > ? AND webhook_event_id IS NOT NULL");
    tail.bind(1, through);
    while (tail.executeStep()) {
      index->tail_.emplace(Key(tail.getColumn(0).getString(), tail.getColumn(1).getString()),
                           tail.getColumn(2).getInt64());
    }
    return index;
  } catch (const SQLite::Exception& e) {
    return StatusFromSqlite(e, "reading the events' index watermark");
  }
}

EventIndex::EventIndex(SQLite::Database& writer, int batch_rows, int64_t indexed_through)
    : batch_rows_(batch_rows),
      indexed_through_(indexed_through),
      seen_(writer,
            "SELECT 1 FROM events_once_per_oa WHERE webhook_event_id = ? AND channel_id = ?") {}

std::string EventIndex::Key(absl::string_view channel_id, absl::string_view webhook_event_id) {
  // Channel IDs are digits, so a NUL cannot make two pairs one key.
  return absl::StrCat(channel_id, absl::string_view("\0", 1), webhook_event_id);
}

bool EventIndex::Seen(const std::string& channel_id, const std::string& webhook_event_id) {
  if (tail_.contains(Key(channel_id, webhook_event_id))) return true;
  seen_.tryReset();
  seen_.bindNoCopy(1, webhook_event_id);
  seen_.bindNoCopy(2, channel_id);
  const bool indexed = seen_.executeStep();
  seen_.reset();
  return indexed;
}

void EventIndex::Add(absl::string_view channel_id, absl::string_view webhook_event_id,
                     int64_t seq, std::vector<std::string>* added) {
  std::string key = Key(channel_id, webhook_event_id);
  tail_.emplace(key, seq);
  added->push_back(std::move(key));
}

void EventIndex::Abandoned(const std::vector<std::string>& added) {
  for (const std::string& key : added) tail_.erase(key);
}

bool EventIndex::CatchUpDue(int64_t last_cursor) const {
  return !catch_up_queued_ && last_cursor - indexed_through_ >= batch_rows_;
}

int64_t EventIndex::CatchUp(SQLite::Database& db) {
  const int64_t from =
      db.execAndGet("SELECT through_seq FROM events_indexed WHERE one = 1").getInt64();
  const int64_t through = db.execAndGet("SELECT coalesce(max(seq), 0) FROM events").getInt64();
  if (through <= from) return from;
  for (const char* sql : {kIndexEventsByTeam, kIndexEventsOncePerOa, kMarkEventsIndexed}) {
    SQLite::Statement statement(db, sql);
    statement.bind(1, from);
    statement.bind(2, through);
    statement.exec();
  }
  return through;
}

void EventIndex::CaughtUp(bool committed, int64_t through) {
  if (!committed || through <= indexed_through_) return;
  indexed_through_ = through;
  absl::erase_if(tail_, [through](const auto& entry) { return entry.second <= through; });
}

}  // namespace linechannel::storage
