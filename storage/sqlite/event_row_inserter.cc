#include "storage/sqlite/event_row_inserter.h"

#include <algorithm>
#include <string>

namespace linechannel::storage {
namespace {

constexpr char kInsertColumns[] =
    "INSERT INTO events (binding_row_id, team_id, channel_id, webhook_event_id, type, "
    "timestamp_ms, mode, redelivery, source_type, source_user_id, source_group_id, "
    "source_room_id, received_at_us, raw_json, seq) VALUES ";
constexpr char kRowParameters[] = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr int kParametersPerRow = 15;

// Binds `row` as the statement's `index`th row of parameters.
void BindRow(SQLite::Statement& insert, size_t index, const EventBatch& batch, int64_t received_us,
             const EventRowInserter::Row& row) {
  const NewEvent& e = *row.event;
  const int first = static_cast<int>(index) * kParametersPerRow + 1;
  insert.bind(first, batch.binding_row_id);
  insert.bindNoCopy(first + 1, batch.team_id);
  insert.bindNoCopy(first + 2, batch.channel_id);
  if (e.webhook_event_id) {
    insert.bindNoCopy(first + 3, *e.webhook_event_id);
  } else {
    insert.bind(first + 3);
  }
  insert.bindNoCopy(first + 4, e.type);
  insert.bind(first + 5, e.timestamp_ms);
  insert.bindNoCopy(first + 6, e.mode);
  insert.bind(first + 7, e.redelivery ? 1 : 0);
  insert.bindNoCopy(first + 8, e.source_type);
  insert.bindNoCopy(first + 9, e.source_user_id);
  insert.bindNoCopy(first + 10, e.source_group_id);
  insert.bindNoCopy(first + 11, e.source_room_id);
  insert.bind(first + 12, received_us);
  insert.bindNoCopy(first + 13, e.raw_json);
  insert.bind(first + 14, row.seq);
}

}  // namespace

void EventRowInserter::Insert(const EventBatch& batch, int64_t received_us,
                              const std::vector<Row>& rows) {
  for (size_t from = 0; from < rows.size();) {
    const size_t count = std::min(kMaxRowsPerStatement, rows.size() - from);
    SQLite::Statement& insert = StatementFor(count);
    // Reset before use without throwing: a statement whose step failed in an earlier write
    // keeps that error for its next reset, which must not fail this write.
    insert.tryReset();
    for (size_t i = 0; i < count; ++i) BindRow(insert, i, batch, received_us, rows[from + i]);
    insert.exec();
    insert.tryReset();
    from += count;
  }
}

SQLite::Statement& EventRowInserter::StatementFor(size_t rows) {
  if (by_rows_.size() < rows) by_rows_.resize(rows);
  std::unique_ptr<SQLite::Statement>& statement = by_rows_[rows - 1];
  if (statement == nullptr) {
    std::string sql = kInsertColumns;
    for (size_t i = 0; i < rows; ++i) {
      if (i > 0) sql += ", ";
      sql += kRowParameters;
    }
    statement = std::make_unique<SQLite::Statement>(writer_, sql);
  }
  return *statement;
}

}  // namespace linechannel::storage
