#ifndef LINECHANNEL_STORAGE_SQLITE_EVENT_INDEX_H_
#define LINECHANNEL_STORAGE_SQLITE_EVENT_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linechannel::storage {

// The statements that give the rows with ?1 < seq <= ?2 their keys (and then the watermark
// ?2), in the order that fills each table page once; bench_fill_store uses them too.
inline constexpr char kIndexEventsByTeam[] =
    "INSERT INTO events_by_team (team_id, seq) SELECT team_id, seq FROM events "
    "WHERE seq > ?1 AND seq <= ?2 ORDER BY team_id, seq";
inline constexpr char kIndexEventsOncePerOa[] =
    "INSERT INTO events_once_per_oa (webhook_event_id, channel_id) "
    "SELECT webhook_event_id, channel_id FROM events "
    "WHERE seq > ?1 AND seq <= ?2 AND webhook_event_id IS NOT NULL "
    "ORDER BY webhook_event_id, channel_id";
inline constexpr char kMarkEventsIndexed[] =
    "UPDATE events_indexed SET through_seq = ?2 WHERE one = 1";

// The events table's ways in (by team, and once per OA by webhookEventId), kept in batches
// rather than on every commit: an index updated per commit writes a whole page to the log for
// every team and OA the commit touches, which was most of what an event cost on disk.
//
// Rows up to events_indexed.through_seq have their keys in events_by_team and
// events_once_per_oa; the rows after it (the tail, at most a few batches) are found by the
// rowid alone, and their once-per-OA keys are also held here in memory, so that a duplicate is
// caught whether its first copy is indexed or not. CatchUp moves the tail's keys into the
// tables, sorted, in one write, so each table page it touches takes many keys at once.
//
// Used only on the commit queue's thread (and before it starts): not thread-safe.
class EventIndex {
 public:
  // Reads the watermark and the tail's keys from `writer`, which must outlive the index.
  static absl::StatusOr<std::unique_ptr<EventIndex>> Load(SQLite::Database& writer,
                                                          int batch_rows);

  // Whether `channel_id` already has an event with this webhookEventId, indexed or in the
  // tail. Runs inside the write's transaction.
  bool Seen(const std::string& channel_id, const std::string& webhook_event_id);

  // Notes a row the current write stored. Its write must later call Committed or Abandoned
  // with what it added (the keys are appended to `added`).
  void Add(absl::string_view channel_id, absl::string_view webhook_event_id, int64_t seq,
           std::vector<std::string>* added);
  // A write whose keys were added failed or was rolled back: its rows are not there.
  void Abandoned(const std::vector<std::string>& added);

  // Whether the tail has grown to a batch (given the newest cursor) and no catch-up is queued.
  bool CatchUpDue(int64_t last_cursor) const;
  // Whether a catch-up is queued (CatchUpDue says no while one is).
  void set_catch_up_queued(bool queued) { catch_up_queued_ = queued; }
  // The catch-up write: indexes every row after the watermark stored in `db` (so two catch-ups
  // in one transaction do not collide); returns the new watermark.
  int64_t CatchUp(SQLite::Database& db);
  // After the catch-up's transaction, with the watermark CatchUp returned and whether the
  // transaction committed.
  void CaughtUp(bool committed, int64_t through);

  int64_t indexed_through() const { return indexed_through_; }
  size_t tail_keys() const { return tail_.size(); }

 private:
  EventIndex(SQLite::Database& writer, int batch_rows, int64_t indexed_through);

  static std::string Key(absl::string_view channel_id, absl::string_view webhook_event_id);

  const int batch_rows_;
  int64_t indexed_through_;
  bool catch_up_queued_ = false;
  // Once-per-OA keys of the tail's rows, with their cursors.
  absl::flat_hash_map<std::string, int64_t> tail_;
  SQLite::Statement seen_;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_EVENT_INDEX_H_
