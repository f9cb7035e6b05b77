#include "storage/sqlite/event_index.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/sqlite/sqlite_errors.h"
#include "storage/sqlite/team_cursors.h"

namespace linechannel::storage {
namespace {

constexpr char kOnceColumns[] = "events_once_per_oa (webhook_event_id, channel_id)";

// Keys inserted by one statement. With one statement per key, a piece spent much of its time
// starting and ending statements: 64 at a time took the 20-event webhook rows from 6,332 to
// 6,900 requests/s (two interleaved runs each).
constexpr size_t kKeysPerInsert = 64;

// "INSERT OR IGNORE INTO <table> (<columns>) VALUES (?, ?), ..." with `rows` pairs.
std::string InsertPairs(absl::string_view table_and_columns, size_t rows) {
  std::string sql = absl::StrCat("INSERT OR IGNORE INTO ", table_and_columns, " VALUES (?, ?)");
  for (size_t i = 1; i < rows; ++i) sql += ", (?, ?)";
  return sql;
}

// Binds the key as the `row`th pair of parameters of `insert`.
void BindKey(SQLite::Statement& insert, size_t row,
             const std::pair<std::string, std::string>& key) {
  const int first = static_cast<int>(2 * row + 1);
  insert.bindNoCopy(first, key.first);
  insert.bindNoCopy(first + 1, key.second);
}

// Inserts keys [from, to): kKeysPerInsert at a time with `many`, the rest with `one`. Each
// statement is reset before its use and after, without throwing: a statement whose step failed
// in an earlier write keeps that error for its next reset, which must not fail this write.
void InsertKeys(SQLite::Statement& many, SQLite::Statement& one,
                const std::vector<std::pair<std::string, std::string>>& keys, size_t from,
                size_t to) {
  for (; to - from >= kKeysPerInsert; from += kKeysPerInsert) {
    many.tryReset();
    for (size_t row = 0; row < kKeysPerInsert; ++row) BindKey(many, row, keys[from + row]);
    many.exec();
  }
  many.tryReset();
  for (; from < to; ++from) {
    one.tryReset();
    BindKey(one, 0, keys[from]);
    one.exec();
  }
  one.tryReset();
}

int64_t IndexedThrough(SQLite::Database& db) {
  return db.execAndGet(kEventsIndexedThrough).getInt64();
}

int64_t LastCursor(SQLite::Database& db) { return db.execAndGet(kLastEventCursor).getInt64(); }

// The greatest webhookEventId in events_once_per_oa ("" when it has none): one step down the
// right edge of its B-tree.
std::string GreatestIndexedId(SQLite::Database& db) {
  return db.execAndGet("SELECT coalesce(max(webhook_event_id), '') FROM events_once_per_oa")
      .getString();
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventIndex>> EventIndex::Load(SQLite::Database& writer,
                                                             int batch_rows, int pieces) {
  try {
    if (absl::Status registered = RegisterTeamCursorsFunction(writer.getHandle());
        !registered.ok()) {
      return registered;
    }
    const int64_t through = IndexedThrough(writer);
    auto index = std::unique_ptr<EventIndex>(new EventIndex(writer, batch_rows, pieces, through));
    index->greatest_indexed_id_ = GreatestIndexedId(writer);
    SQLite::Statement tail(writer,
                           "SELECT seq, team_id, channel_id, webhook_event_id FROM events "
                           "WHERE seq > ? ORDER BY seq");
    tail.bind(1, through);
    std::vector<TailRow> rows;
    while (tail.executeStep()) {
      TailRow& row = rows.emplace_back();
      row.seq = tail.getColumn(0).getInt64();
      row.team_id = tail.getColumn(1).getString();
      row.channel_id = tail.getColumn(2).getString();
      if (tail.getColumn(3).isNull()) continue;
      row.webhook_event_id = tail.getColumn(3).getString();
      index->Add(row.channel_id, *row.webhook_event_id, row.seq);
    }
    index->Stored(std::move(rows));
    return index;
  } catch (const SQLite::Exception& e) {
    return StatusFromSqlite(e, "reading the events' index watermark");
  }
}

EventIndex::EventIndex(SQLite::Database& writer, int batch_rows, int pieces,
                       int64_t indexed_through)
    : batch_rows_(batch_rows),
      pieces_(std::max(pieces, 1)),
      indexed_through_(indexed_through),
      seen_(writer,
            "SELECT 1 FROM events_once_per_oa WHERE webhook_event_id = ? AND channel_id = ?"),
      drop_team_cursors_above_(writer, "DELETE FROM events_team_cursors WHERE through_seq > ?"),
      insert_team_cursors_(
          writer,
          "INSERT INTO events_team_cursors (through_seq, team_id, cursors) VALUES (?, ?, ?)"),
      set_team_newest_(writer,
                       "INSERT INTO events_team_newest (team_id, through_seq) VALUES (?, ?) "
                       "ON CONFLICT (team_id) DO UPDATE SET through_seq = excluded.through_seq"),
      insert_once_(writer, InsertPairs(kOnceColumns, 1)),
      insert_many_once_(writer, InsertPairs(kOnceColumns, kKeysPerInsert)) {}

std::string EventIndex::TailKey(absl::string_view channel_id, absl::string_view webhook_event_id) {
  // Channel IDs are digits, so a NUL cannot make two pairs one key.
  return absl::StrCat(channel_id, absl::string_view("\0", 1), webhook_event_id);
}

bool EventIndex::Seen(const std::string& channel_id, const std::string& webhook_event_id) {
  return SeenKey(TailKey(channel_id, webhook_event_id), channel_id, webhook_event_id);
}

bool EventIndex::SeenKey(const std::string& tail_key, const std::string& channel_id,
                         const std::string& webhook_event_id) {
  if (tail_.contains(tail_key)) return true;
  // LINE's webhookEventIds are ULIDs, which grow with time: a new event's id is past every
  // indexed one, and only a redelivery needs the look-up.
  if (webhook_event_id > greatest_indexed_id_) return false;
  seen_.tryReset();
  seen_.bindNoCopy(1, webhook_event_id);
  seen_.bindNoCopy(2, channel_id);
  const bool indexed = seen_.executeStep();
  seen_.reset();
  return indexed;
}

void EventIndex::Add(absl::string_view channel_id, absl::string_view webhook_event_id,
                     int64_t seq) {
  AddKey(TailKey(channel_id, webhook_event_id), seq);
}

void EventIndex::AddKey(std::string tail_key, int64_t seq) {
  tail_.try_emplace(std::move(tail_key), seq);
}

void EventIndex::Abandoned(int64_t first_seq, int64_t last_seq) {
  // Rare (a failed write), so a pass over the tail costs less than a list of every write's
  // keys kept in case.
  if (first_seq != 0) {
    absl::erase_if(tail_, [first_seq, last_seq](const auto& entry) {
      return entry.second >= first_seq && entry.second <= last_seq;
    });
  }
  // Its rows may be in tail_rows_ (it failed after Stored, with its transaction).
  tail_rows_exact_ = false;
}

void EventIndex::Stored(std::vector<TailRow> rows) {
  for (TailRow& row : rows) {
    // Cursors only grow, and a rolled-back one is not given again (event_cursors.h); rows
    // out of order would mean the tail is not what the writes stored.
    if (!tail_rows_.empty() && row.seq <= tail_rows_.back().seq) tail_rows_exact_ = false;
    tail_rows_.push_back(std::move(row));
  }
}

bool EventIndex::TailRowsAre(int64_t from, int64_t through) const {
  // Cursors that only grow, as many as the range holds, its first and its last among them:
  // then every cursor of the range is there once. A row no write told of (a lifecycle event)
  // leaves one out.
  return tail_rows_exact_ && !tail_rows_.empty() && tail_rows_.front().seq == from + 1 &&
         tail_rows_.back().seq == through &&
         static_cast<int64_t>(tail_rows_.size()) == through - from;
}

bool EventIndex::PieceDue(int64_t last_cursor) const {
  return !piece_queued_ && (catch_ != nullptr || last_cursor - indexed_through_ >= batch_rows_);
}

bool EventIndex::StartCatchUp(SQLite::Database& db, int64_t from) {
  auto next = std::make_unique<Catch>();
  next->through = LastCursor(db);
  if (next->through <= from) return false;
  // Rows come in cursor order, so each team's cursors are in order as they are gathered: the
  // rows are grouped by team rather than sorted, which was a string comparison per row and
  // step of the sort on the commit thread.
  absl::flat_hash_map<std::string, size_t> team_at;
  const auto add_cursor = [&](std::string team_id, int64_t seq) {
    const auto [it, added] = team_at.try_emplace(team_id, next->by_team.size());
    if (added) next->by_team.emplace_back(std::move(team_id), std::vector<int64_t>());
    next->by_team[it->second].second.push_back(seq);
  };
  if (TailRowsAre(from, next->through)) {
    next->once.reserve(tail_rows_.size());
    for (TailRow& row : tail_rows_) {
      add_cursor(std::move(row.team_id), row.seq);
      if (row.webhook_event_id) {
        next->once.emplace_back(std::move(*row.webhook_event_id), std::move(row.channel_id));
      }
    }
  } else {
    SQLite::Statement rows(db,
                           "SELECT team_id, seq, webhook_event_id, channel_id FROM events "
                           "WHERE seq > ? AND seq <= ? ORDER BY seq");
    rows.bind(1, from);
    rows.bind(2, next->through);
    while (rows.executeStep()) {
      add_cursor(rows.getColumn(0).getString(), rows.getColumn(1).getInt64());
      if (!rows.getColumn(2).isNull()) {
        next->once.emplace_back(rows.getColumn(2).getString(), rows.getColumn(3).getString());
      }
    }
  }
  // The tail's rows are all in the catch-up now: the next rows begin a new run.
  tail_rows_.clear();
  tail_rows_exact_ = true;
  // std::string orders as SQLite's BINARY collation does (bytes, then length), so each piece
  // is one run of neighbouring keys of its table.
  std::sort(next->by_team.begin(), next->by_team.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::sort(next->once.begin(), next->once.end());
  catch_ = std::move(next);
  return true;
}

EventIndex::Piece EventIndex::IndexPiece(SQLite::Database& db) {
  Piece piece;
  const int64_t stored = IndexedThrough(db);
  // A whole catch-up (retention's) may have passed the one under way.
  if (catch_ != nullptr && catch_->through <= stored) catch_.reset();
  if (catch_ == nullptr && !StartCatchUp(db, stored)) {
    piece.through = stored;
    piece.finished = true;
    return piece;
  }
  const Catch& c = *catch_;
  piece.through = c.through;
  // A slice of the once-per-OA keys, so that the catch-up takes `pieces_` writes whatever its
  // size; the teams' rows, a few pages, go with the last.
  piece.once_done = std::min(c.once.size(), c.once_done + (c.once.size() + pieces_ - 1) / pieces_);
  InsertKeys(insert_many_once_, insert_once_, c.once, c.once_done, piece.once_done);
  // Raised before the keys commit (and kept if they do not): too high costs Seen a look-up,
  // too low would let a copy in. `once` is sorted, so its slice ends with its greatest id.
  if (piece.once_done > c.once_done) {
    greatest_indexed_id_ = std::max(greatest_indexed_id_, c.once[piece.once_done - 1].first);
  }
  if (piece.once_done == c.once.size()) {
    InsertTeamCursors(c, stored);
    SQLite::Statement mark(db, kMarkEventsIndexed);
    mark.bind(2, c.through);
    mark.exec();
    piece.finished = true;
  }
  return piece;
}

void EventIndex::DropTeamCursorsAbove(int64_t stored) {
  drop_team_cursors_above_.tryReset();
  drop_team_cursors_above_.bind(1, stored);
  drop_team_cursors_above_.exec();
  drop_team_cursors_above_.tryReset();
}

void EventIndex::InsertTeamCursors(const Catch& c, int64_t stored) {
  DropTeamCursorsAbove(stored);
  // by_team is sorted by team, each team's cursors in order: each team's row, in key order.
  for (const auto& [team, cursors] : c.by_team) {
    const std::string encoded = EncodeCursors(cursors);
    insert_team_cursors_.tryReset();
    insert_team_cursors_.bind(1, c.through);
    insert_team_cursors_.bindNoCopy(2, team);
    insert_team_cursors_.bindNoCopy(3, encoded.data(), static_cast<int>(encoded.size()));
    insert_team_cursors_.exec();
    set_team_newest_.tryReset();
    set_team_newest_.bindNoCopy(1, team);
    set_team_newest_.bind(2, c.through);
    set_team_newest_.exec();
  }
  insert_team_cursors_.tryReset();
  set_team_newest_.tryReset();
}

void EventIndex::PieceDone(bool committed, const Piece& piece) {
  if (!committed) {
    // Its keys may be in or out: the catch-up starts over (inserting a key again is harmless).
    catch_.reset();
    return;
  }
  if (piece.finished) {
    CaughtUp(true, piece.through);
    return;
  }
  if (catch_ != nullptr && catch_->through == piece.through) catch_->once_done = piece.once_done;
}

int64_t EventIndex::CatchUp(SQLite::Database& db) {
  const int64_t from = IndexedThrough(db);
  const int64_t through = LastCursor(db);
  if (through <= from) return from;
  DropTeamCursorsAbove(from);
  for (const char* sql :
       {kIndexTeamCursors, kIndexTeamNewest, kIndexEventsOncePerOa, kMarkEventsIndexed}) {
    SQLite::Statement statement(db, sql);
    statement.bind(1, from);
    statement.bind(2, through);
    statement.exec();
  }
  greatest_indexed_id_ = std::max(greatest_indexed_id_, GreatestIndexedId(db));
  return through;
}

void EventIndex::CaughtUp(bool committed, int64_t through) {
  if (!committed) return;
  if (catch_ != nullptr && catch_->through <= through) catch_.reset();
  if (through <= indexed_through_) return;
  indexed_through_ = through;
  absl::erase_if(tail_, [through](const auto& entry) { return entry.second <= through; });
  tail_rows_.erase(tail_rows_.begin(),
                   std::find_if(tail_rows_.begin(), tail_rows_.end(),
                                [through](const TailRow& row) { return row.seq > through; }));
}

}  // namespace linechannel::storage
