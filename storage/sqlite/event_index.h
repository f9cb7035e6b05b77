#ifndef LINECHANNEL_STORAGE_SQLITE_EVENT_INDEX_H_
#define LINECHANNEL_STORAGE_SQLITE_EVENT_INDEX_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linechannel::storage {

// The statements that give the rows with ?1 < seq <= ?2 their ways in (and then the watermark
// ?2), each table's rows in the order that fills its pages once; bench_fill_store uses them
// too. The team's rows need team_cursors() (team_cursors.h). A once-per-OA key already there (a
// piece of an unfinished catch-up, see below) is left as it is.
inline constexpr char kIndexTeamCursors[] =
    "INSERT INTO events_team_cursors (through_seq, team_id, cursors) "
    "SELECT ?2, team_id, team_cursors(seq) FROM events WHERE seq > ?1 AND seq <= ?2 "
    "GROUP BY team_id ORDER BY team_id";
inline constexpr char kIndexTeamNewest[] =
    "INSERT INTO events_team_newest (team_id, through_seq) "
    "SELECT DISTINCT team_id, ?2 FROM events WHERE seq > ?1 AND seq <= ?2 ORDER BY team_id "
    "ON CONFLICT (team_id) DO UPDATE SET through_seq = excluded.through_seq";
inline constexpr char kIndexEventsOncePerOa[] =
    "INSERT OR IGNORE INTO events_once_per_oa (webhook_event_id, channel_id) "
    "SELECT webhook_event_id, channel_id FROM events "
    "WHERE seq > ?1 AND seq <= ?2 AND webhook_event_id IS NOT NULL "
    "ORDER BY webhook_event_id, channel_id";
// The watermark: the rows with seq up to it have their ways in, in both tables.
inline constexpr char kEventsIndexedThrough[] =
    "SELECT through_seq FROM events_indexed WHERE one = 1";
// The newest event's cursor (0 when there is none).
inline constexpr char kLastEventCursor[] = "SELECT coalesce(max(seq), 0) FROM events";
inline constexpr char kMarkEventsIndexed[] =
    "UPDATE events_indexed SET through_seq = ?2 WHERE one = 1";

// The events table's ways in (by team, and once per OA by webhookEventId), kept in batches
// rather than on every commit: an index updated per commit writes a whole page to the log for
// every team and OA the commit touches, which was most of what an event cost on disk.
//
// Rows up to events_indexed.through_seq are in events_team_cursors (team_cursors.h) and have
// their keys in events_once_per_oa; the rows after it (the tail, at most a few batches) are
// found by the rowid alone, and their once-per-OA keys are also held here in memory, so that a
// duplicate is caught whether its first copy is indexed or not. Once the tail holds a batch, a
// catch-up moves its keys into the table, sorted, so each page it touches takes many keys at
// once. The catch-up is cut into pieces, one per transaction, each a slice of the sorted keys:
// done in one write it put a page per table region into one commit, and every request queued
// behind that commit waited for it. Keys of an unfinished catch-up may already be in the table,
// above the watermark, which is no harm (their rows are stored), and the inserts ignore keys
// already there (a catch-up cut off by a restart is done again). The catch-up's last piece writes
// the teams' rows, a few pages after the last catch-up's, with the watermark.
//
// A catch-up takes the keys from the rows as the writes stored them (Stored), not from the
// file: reading a batch of rows back cost the commit thread 5-45 ms at the start of every
// catch-up, and every request queued meanwhile waited. It reads the file only when the rows
// it was told of may not be exactly the rows after the watermark: a row it was not told of
// (a lifecycle event), a write rolled back after it told of its rows, a catch-up that did not
// commit.
//
// Used only on the commit queue's thread (and before it starts): not thread-safe.
class EventIndex {
 public:
  // Reads the watermark and the tail's keys from `writer`, which must outlive the index. A
  // catch-up starts once the tail holds `batch_rows` rows, and is done in `pieces` writes.
  static absl::StatusOr<std::unique_ptr<EventIndex>> Load(SQLite::Database& writer, int batch_rows,
                                                          int pieces);

  // The tail's key of an event. A write makes its events' keys on the caller's thread and hands
  // them to SeenKey and AddKey, which keeps the key itself: a key built and copied on the commit
  // thread was an allocation there per event.
  static std::string TailKey(absl::string_view channel_id, absl::string_view webhook_event_id);

  // Whether `channel_id` already has an event with this webhookEventId, indexed or in the
  // tail. Runs inside the write's transaction; looks in the table only for an id that is not
  // past every indexed one.
  bool Seen(const std::string& channel_id, const std::string& webhook_event_id);
  // The same, with the pair's TailKey.
  bool SeenKey(const std::string& tail_key, const std::string& channel_id,
               const std::string& webhook_event_id);

  // Notes the key of a row the current write stored with cursor `seq`; if the write's rows do
  // not commit, Abandoned must be told the cursors of the keys it added.
  void Add(absl::string_view channel_id, absl::string_view webhook_event_id, int64_t seq);
  // The same, with the pair's TailKey.
  void AddKey(std::string tail_key, int64_t seq);
  // A write failed or was rolled back: its rows are not there, and the keys it added (of the
  // rows with cursors first_seq to last_seq; none when first_seq is 0) are forgotten. No other
  // write's key is in that range: a cursor is given to one row only (event_cursors.h), and a
  // write takes its cursors one after another on the commit thread, between no other write's.
  void Abandoned(int64_t first_seq, int64_t last_seq);

  // A row a write stored, with the keys a catch-up gives it.
  struct TailRow {
    int64_t seq = 0;
    std::string team_id;
    std::string channel_id;
    std::optional<std::string> webhook_event_id;
  };
  // The rows a write stored, in the order stored, once it has stored them all (a write that
  // throws gives none: its rows are rolled back with it). A write that told of its rows must
  // call Abandoned if its transaction does not commit, even with no keys added.
  void Stored(std::vector<TailRow> rows);

  // What a piece of a catch-up did, for PieceDone.
  struct Piece {
    int64_t through = 0;  // The catch-up's last cursor.
    size_t once_done = 0;
    bool finished = false;  // The watermark is now `through`.
  };
  // Whether the next piece of a catch-up is due (given the newest cursor): one is under way or
  // the tail has grown to a batch, and no piece is queued.
  bool PieceDue(int64_t last_cursor) const;
  // Whether a piece is queued (PieceDue says no while one is).
  void set_piece_queued(bool queued) { piece_queued_ = queued; }
  // A write: the next piece of the catch-up under way, or the first of a new one, which takes
  // every row after the watermark stored in `db`.
  Piece IndexPiece(SQLite::Database& db);
  // After the piece's transaction, with what IndexPiece returned and whether it committed.
  void PieceDone(bool committed, const Piece& piece);

  // A write that indexes every row after the watermark stored in `db` at once (retention, so
  // that the rows it deletes take their keys with them); returns the new watermark.
  int64_t CatchUp(SQLite::Database& db);
  // After CatchUp's transaction, with the watermark it returned and whether it committed.
  void CaughtUp(bool committed, int64_t through);

  int64_t indexed_through() const { return indexed_through_; }
  size_t tail_keys() const { return tail_.size(); }

 private:
  // The keys of a catch-up under way, sorted as their tables are, and how many once-per-OA
  // keys are in.
  struct Catch {
    int64_t through = 0;
    std::vector<std::pair<std::string, std::vector<int64_t>>> by_team;  // (team, its cursors)
    std::vector<std::pair<std::string, std::string>> once;  // (webhookEventId, channel)
    size_t once_done = 0;
  };

  EventIndex(SQLite::Database& writer, int batch_rows, int pieces, int64_t indexed_through);

  // Reads the keys of the rows after `from` into a new catch-up; false if there are none.
  bool StartCatchUp(SQLite::Database& db, int64_t from);
  // Whether tail_rows_ are exactly the rows with from < seq <= through.
  bool TailRowsAre(int64_t from, int64_t through) const;
  // Team rows above the watermark `stored` belong to no catch-up that finished; the one that
  // writes its rows now holds their cursors.
  void DropTeamCursorsAbove(int64_t stored);
  // The catch-up's row of each team, in place of any rows above the watermark `stored`; and
  // the catch-up as each of those teams' newest.
  void InsertTeamCursors(const Catch& c, int64_t stored);

  const int batch_rows_;
  const int pieces_;
  int64_t indexed_through_;
  bool piece_queued_ = false;
  std::unique_ptr<Catch> catch_;
  // Once-per-OA keys of the tail's rows, with their cursors.
  absl::flat_hash_map<std::string, int64_t> tail_;
  // The rows writes told of (Stored) since the last catch-up started, in the order told.
  // tail_rows_exact_ is false once they may hold rows that are not in the file: a write told
  // of its rows and was then rolled back.
  std::vector<TailRow> tail_rows_;
  bool tail_rows_exact_ = true;
  // No webhookEventId in events_once_per_oa is greater (ids compare as SQLite's BINARY does).
  std::string greatest_indexed_id_;
  SQLite::Statement seen_;
  SQLite::Statement drop_team_cursors_above_;
  SQLite::Statement insert_team_cursors_;
  SQLite::Statement set_team_newest_;
  SQLite::Statement insert_once_;
  SQLite::Statement insert_many_once_;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_EVENT_INDEX_H_
