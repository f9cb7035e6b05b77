#include "storage/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <tuple>
#include <utility>

#include "SQLiteCpp/Statement.h"
#include "SQLiteCpp/Transaction.h"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "storage/sqlite/event_index.h"
#include "storage/sqlite/event_row_inserter.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite_errors.h"
#include "storage/sqlite/team_cursors.h"

namespace linechannel::storage {
namespace {

// Every binding read also reads what the webhook endpoint saw for it.
constexpr char kBindingColumns[] =
    "b.row_id, b.binding_id, b.team_id, b.app_name, b.channel_id, b.line_id, b.bot_user_id, "
    "b.bot_display_name, b.webhook_key, b.secret_key_id, b.secret_sealed, b.secret_hint, "
    "b.token_key_id, b.token_sealed, b.token_hint, b.verified_with_line, b.bound_at_us, "
    "b.bound_by, b.credentials_updated_at_us, b.unbound_at_us, b.unbound_by, "
    "b.attention_reasons, b.checked_at_us, a.last_signed_at_us, a.last_bad_signature_at_us, "
    "a.last_destination_mismatch_at_us, b.bot_suspended";
constexpr char kBindingTables[] =
    "bindings b LEFT JOIN webhook_activity a ON a.binding_row_id = b.row_id";

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

// How often requests with events write the bindings' last signed requests (SignedRequests).
constexpr int64_t kSignedRequestBatchIntervalUs = 1'000'000;
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

std::optional<absl::Time> OptionalTime(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return FromMicros(column.getInt64());
}

std::string ColumnBytes(const SQLite::Column& column) {
  return std::string(static_cast<const char*>(column.getBlob()),
                     static_cast<size_t>(column.getBytes()));
}

// Reads a row selected with kBindingColumns.
Binding ReadBinding(SQLite::Statement& row) {
  Binding b;
  b.row_id = row.getColumn(0).getInt64();
  b.binding_id = row.getColumn(1).getString();
  b.team_id = row.getColumn(2).getString();
  b.app_name = row.getColumn(3).getString();
  b.channel_id = row.getColumn(4).getString();
  b.line_id = row.getColumn(5).getString();
  b.bot_user_id = row.getColumn(6).isNull() ? "" : row.getColumn(6).getString();
  b.bot_display_name = row.getColumn(7).getString();
  b.webhook_key = row.getColumn(8).getString();
  b.channel_secret = {row.getColumn(9).getString(), ColumnBytes(row.getColumn(10))};
  b.channel_secret_hint = row.getColumn(11).getString();
  b.access_token = {row.getColumn(12).getString(), ColumnBytes(row.getColumn(13))};
  b.access_token_hint = row.getColumn(14).getString();
  b.verified_with_line = row.getColumn(15).getInt() != 0;
  b.bound_at = FromMicros(row.getColumn(16).getInt64());
  b.bound_by = row.getColumn(17).getString();
  b.credentials_updated_at = FromMicros(row.getColumn(18).getInt64());
  if (!row.getColumn(19).isNull()) {
    b.unbound_at = FromMicros(row.getColumn(19).getInt64());
    b.unbound_by = row.getColumn(20).getString();
  }
  const std::string reasons = row.getColumn(21).getString();
  if (!reasons.empty()) b.attention_reasons = absl::StrSplit(reasons, '\n');
  b.checked_at = OptionalTime(row.getColumn(22));
  b.activity.last_signed_request = OptionalTime(row.getColumn(23));
  b.activity.last_bad_signature = OptionalTime(row.getColumn(24));
  b.activity.last_destination_mismatch = OptionalTime(row.getColumn(25));
  b.bot_suspended = row.getColumn(26).getInt() != 0;
  return b;
}

// Audit rows are read with their binding's public id.
constexpr char kAuditColumns[] =
    "a.id, a.binding_row_id, b.binding_id, a.team_id, a.channel_id, a.action, a.actor, a.at_us, "
    "a.detail";
constexpr char kAuditTables[] = "audit_log a JOIN bindings b ON b.row_id = a.binding_row_id";

// Reads a row selected with kAuditColumns.
AuditRecord ReadAudit(SQLite::Statement& row) {
  AuditRecord r;
  r.id = row.getColumn(0).getInt64();
  r.binding_row_id = row.getColumn(1).getInt64();
  r.binding_id = row.getColumn(2).getString();
  r.team_id = row.getColumn(3).getString();
  r.channel_id = row.getColumn(4).getString();
  r.action = row.getColumn(5).getString();
  r.actor = row.getColumn(6).getString();
  r.at = FromMicros(row.getColumn(7).getInt64());
  r.detail = row.getColumn(8).getString();
  return r;
}

void BindBlob(SQLite::Statement& statement, int index, const std::string& bytes) {
  statement.bind(index, bytes.data(), static_cast<int>(bytes.size()));
}

// The binding selected by `where` (which binds its parameters through `bind`); NOT_FOUND if
// there is none.
template <typename BindParams>
absl::StatusOr<Binding> SelectOne(SQLite::Database& db, absl::string_view where, BindParams bind) {
  SQLite::Statement query(db, absl::StrCat("SELECT ", kBindingColumns, " FROM ", kBindingTables,
                                           " WHERE ", where, " LIMIT 1"));
  bind(query);
  if (!query.executeStep()) return absl::NotFoundError("no such binding");
  return ReadBinding(query);
}

absl::StatusOr<Binding> SelectByRowId(SQLite::Database& db, int64_t row_id) {
  return SelectOne(db, "b.row_id = ?", [&](SQLite::Statement& q) { q.bind(1, row_id); });
}

// The caller's write fails with the returned error (its savepoint then undoes the change too).
absl::Status InsertAudit(SQLite::Database& db, const Binding& binding, absl::string_view action,
                         const Change& change) {
  SQLite::Statement insert(db,
                           "INSERT INTO audit_log (binding_row_id, team_id, channel_id, action, "
                           "actor, at_us, detail) VALUES (?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, binding.row_id);
  insert.bind(2, binding.team_id);
  insert.bind(3, binding.channel_id);
  insert.bind(4, std::string(action));
  insert.bind(5, change.actor);
  insert.bind(6, Micros(change.at));
  insert.bind(7, change.detail);
  try {
    insert.exec();
  } catch (const SQLite::Exception& e) {
    // No row of ours breaks the audit log's constraints, so a refusal is a bug, not the
    // conflict that SQLITE_CONSTRAINT means elsewhere (as on PostgreSQL). I/O and lock errors
    // keep their meaning.
    if ((e.getErrorCode() & 0xff) != SQLITE_CONSTRAINT) throw;
    return absl::InternalError(absl::StrCat("storage: writing the audit log: ", e.what()));
  }
  return absl::OkStatus();
}

// Stores a lifecycle event of `binding` (as it is after the change) in the transaction of the
// change; returns its cursor.
int64_t InsertLifecycle(SQLite::Database& db, EventCursors& cursors, const Binding& binding,
                        LifecycleKind kind, const Change& change) {
  SQLite::Statement insert(
      db,
      "INSERT INTO events (binding_row_id, team_id, channel_id, webhook_event_id, type, "
      "timestamp_ms, mode, redelivery, source_type, source_user_id, source_group_id, "
      "source_room_id, received_at_us, raw_json, lifecycle, lifecycle_actor, lifecycle_detail, "
      "lifecycle_reasons, lifecycle_suspended, seq) "
      "VALUES (?, ?, ?, NULL, ?, ?, '', 0, '', '', '', '', ?, '', ?, ?, ?, ?, ?, ?)");
  insert.bind(1, binding.row_id);
  insert.bind(2, binding.team_id);
  insert.bind(3, binding.channel_id);
  insert.bind(4, LifecycleKindName(kind));
  insert.bind(5, absl::ToUnixMillis(change.at));
  insert.bind(6, Micros(change.at));
  insert.bind(7, LifecycleKindName(kind));
  insert.bind(8, change.actor);
  insert.bind(9, change.detail);
  insert.bind(10, absl::StrJoin(binding.attention_reasons, "\n"));
  insert.bind(11, binding.bot_suspended ? 1 : 0);
  const int64_t seq = cursors.Take();
  insert.bind(12, seq);
  insert.exec();
  return seq;
}

constexpr char kPushColumns[] =
    "id, binding_row_id, request_id, retry_key, request_digest, recipient, messages_json, "
    "notification_disabled, state, attempts, accepted_at_us, next_attempt_at_us, "
    "lease_until_us, finished_at_us, line_request_id, sent_messages_json, failure_reason, "
    "failure_message";

// Reads a row selected with kPushColumns.
PushRecord ReadPush(SQLite::Statement& row) {
  PushRecord p;
  p.id = row.getColumn(0).getInt64();
  p.binding_row_id = row.getColumn(1).getInt64();
  p.request_id = row.getColumn(2).getString();
  p.retry_key = row.getColumn(3).getString();
  p.request_digest = row.getColumn(4).getString();
  p.to = row.getColumn(5).getString();
  p.messages_json = row.getColumn(6).getString();
  p.notification_disabled = row.getColumn(7).getInt() != 0;
  p.state = PushStateNamed(row.getColumn(8).getString());
  p.attempts = row.getColumn(9).getInt();
  p.accepted_at = FromMicros(row.getColumn(10).getInt64());
  p.next_attempt_at = FromMicros(row.getColumn(11).getInt64());
  p.lease_until = FromMicros(row.getColumn(12).getInt64());
  p.finished_at = OptionalTime(row.getColumn(13));
  p.line_request_id = row.getColumn(14).getString();
  p.sent_messages_json = row.getColumn(15).getString();
  p.failure_reason = row.getColumn(16).getString();
  p.failure_message = row.getColumn(17).getString();
  return p;
}

// The push selected by `where` (which binds its parameters through `bind`); NOT_FOUND if there
// is none.
template <typename BindParams>
absl::StatusOr<PushRecord> SelectPush(SQLite::Database& db, absl::string_view where,
                                      BindParams bind) {
  SQLite::Statement query(db, absl::StrCat("SELECT ", kPushColumns, " FROM pushes WHERE ", where));
  bind(query);
  if (!query.executeStep()) return absl::NotFoundError("no such push");
  return ReadPush(query);
}

absl::StatusOr<PushRecord> SelectPushByRequest(SQLite::Database& db, int64_t binding_row_id,
                                               const std::string& request_id) {
  return SelectPush(db, "binding_row_id = ? AND request_id = ?", [&](SQLite::Statement& q) {
    q.bind(1, binding_row_id);
    q.bind(2, request_id);
  });
}

// A stored event with its binding's id, for ReadStoredEvent; the caller adds its conditions.
constexpr char kStoredEventSelect[] =
    "SELECT e.seq, b.binding_id, e.team_id, e.channel_id, e.webhook_event_id, e.type, "
    "e.timestamp_ms, e.mode, e.redelivery, e.source_type, e.source_user_id, e.source_group_id, "
    "e.source_room_id, e.raw_json, e.received_at_us, e.lifecycle, e.lifecycle_actor, "
    "e.lifecycle_detail, e.lifecycle_reasons, e.lifecycle_suspended "
    "FROM events e JOIN bindings b ON b.row_id = e.binding_row_id";

StoredEvent ReadStoredEvent(SQLite::Statement& row) {
  StoredEvent out;
  out.cursor = row.getColumn(0).getInt64();
  out.binding_id = row.getColumn(1).getString();
  out.team_id = row.getColumn(2).getString();
  out.channel_id = row.getColumn(3).getString();
  if (!row.getColumn(4).isNull()) out.event.webhook_event_id = row.getColumn(4).getString();
  out.event.type = row.getColumn(5).getString();
  out.event.timestamp_ms = row.getColumn(6).getInt64();
  out.event.mode = row.getColumn(7).getString();
  out.event.redelivery = row.getColumn(8).getInt() != 0;
  out.event.source_type = row.getColumn(9).getString();
  out.event.source_user_id = row.getColumn(10).getString();
  out.event.source_group_id = row.getColumn(11).getString();
  out.event.source_room_id = row.getColumn(12).getString();
  out.event.raw_json = row.getColumn(13).getString();
  out.received_at = FromMicros(row.getColumn(14).getInt64());
  if (!row.getColumn(15).isNull()) {
    out.lifecycle = ReadLifecycle(row.getColumn(15).getString(), row.getColumn(16).getString(),
                                  row.getColumn(17).getString(), row.getColumn(18).getString(),
                                  row.getColumn(19).getInt() != 0);
  }
  return out;
}

// Runs `read` on a pooled connection, turning SQLite exceptions into statuses.
template <typename Result, typename Read>
absl::StatusOr<Result> ReadWith(ConnectionPool& pool, absl::string_view what, Read read) {
  try {
    auto db = pool.Borrow();
    return read(*db);
  } catch (const SQLite::Exception& e) {
    return StatusFromSqlite(e, what);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const Options& options) {
  const ConnectionSettings settings{options.path, options.busy_timeout, options.page_size};
  auto writer = OpenConnection(settings, /*read_only=*/false);
  if (!writer.ok()) return writer.status();
  if (absl::Status migrated = MigrateSchema(**writer); !migrated.ok()) return migrated;
  // A migration that rebuilt a table (version 13) leaves a log as large as the table, and an
  // open file's log never shrinks: it is copied into the file and emptied here, before the
  // other connections open. On every start, so that a start cut off after its migrations is
  // mended by the next. Another program reading the file (sqlite3, a backup) keeps the log as
  // it is; it is emptied when channeld next starts without one.
  try {
    (*writer)->execAndGet("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch (const SQLite::Exception& e) {
    return StatusFromSqlite(e, "emptying the log");
  }
  auto event_index =
      EventIndex::Load(**writer, options.event_index_batch, options.event_index_pieces);
  if (!event_index.ok()) return event_index.status();
  absl::StatusOr<EventCursors> event_cursors = EventCursors::Load(**writer);
  if (!event_cursors.ok()) return event_cursors.status();
  auto readers = ConnectionPool::Open(settings, options.read_connections);
  if (!readers.ok()) return readers.status();
  std::unique_ptr<SQLite::Database> checkpoint_connection;
  if (options.checkpoint_wal_pages > 0) {
    auto opened = OpenConnection(settings, /*read_only=*/false);
    if (!opened.ok()) return opened.status();
    checkpoint_connection = *std::move(opened);
  }
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(*std::move(writer), *std::move(readers), std::move(checkpoint_connection),
                      *std::move(event_index), *event_cursors, options));
}

struct SqliteStore::WriterStatements {
  explicit WriterStatements(SQLite::Database& db)
      : insert_events(db),
        record_signed(db,
                      "INSERT INTO webhook_activity (binding_row_id, last_signed_at_us) "
                      "VALUES (?, ?) ON CONFLICT (binding_row_id) DO UPDATE SET "
                      "last_signed_at_us = max(coalesce(last_signed_at_us, 0), "
                      "excluded.last_signed_at_us)"),
        last_cursor(db, kLastEventCursor),
        insert_push(db,
                    "INSERT INTO pushes (binding_row_id, request_id, retry_key, request_digest, "
                    "recipient, messages_json, notification_disabled, state, attempts, "
                    "accepted_at_us, next_attempt_at_us, lease_until_us, line_request_id, "
                    "sent_messages_json, failure_reason, failure_message) VALUES (?, ?, ?, ?, ?, "
                    "?, ?, 'pending', 1, ?, ?, ?, '', '', '', '') "
                    "ON CONFLICT (binding_row_id, request_id) DO NOTHING"),
        push_by_request(db,
                        absl::StrCat("SELECT ", kPushColumns,
                                     " FROM pushes WHERE binding_row_id = ? AND request_id = ?")),
        push_by_id(db, absl::StrCat("SELECT ", kPushColumns, " FROM pushes WHERE id = ?")),
        reschedule_push(db,
                        "UPDATE pushes SET next_attempt_at_us = :next, lease_until_us = :at, "
                        "failure_reason = :reason, failure_message = :message "
                        "WHERE id = :id AND state = 'pending'"),
        end_push(db,
                 "UPDATE pushes SET state = :state, finished_at_us = :at, messages_json = '', "
                 "line_request_id = :line_request_id, sent_messages_json = :sent, "
                 "failure_reason = :reason, failure_message = :message "
                 "WHERE id = :id AND state = 'pending'") {}

  EventRowInserter insert_events;
  SQLite::Statement record_signed;
  SQLite::Statement last_cursor;
  // A push is admitted and its attempts recorded on every PushMessage: prepared once.
  SQLite::Statement insert_push;
  SQLite::Statement push_by_request;
  SQLite::Statement push_by_id;
  SQLite::Statement reschedule_push;
  SQLite::Statement end_push;
};

namespace {

// Runs `query` (a cached SELECT of kPushColumns, its parameters bound) for one push and leaves
// it reset; NOT_FOUND if there is none.
absl::StatusOr<PushRecord> ReadOnePush(SQLite::Statement& query) {
  absl::StatusOr<PushRecord> found = absl::NotFoundError("no such push");
  if (query.executeStep()) found = ReadPush(query);
  query.reset();
  query.clearBindings();
  return found;
}

// The commit observer, followed by the pages the transaction wrote to the log: on the writer
// connection in WAL mode every page written goes to the log (checkpoints run on their own
// connection), so SQLite's per-connection count of written pages, read and reset after each
// commit on the commit thread, is the transaction's frames.
CommitQueue::Observer WithWalFrames(SQLite::Database* writer, CommitQueue::Observer observer,
                                    std::function<void(int64_t)> wal_frames_observer) {
  if (wal_frames_observer == nullptr) return observer;
  return [writer, observer = std::move(observer),
          wal_frames_observer = std::move(wal_frames_observer)](absl::Duration elapsed, int writes,
                                                                bool committed) {
    if (observer) observer(elapsed, writes, committed);
    int frames = 0;
    int highwater = 0;
    if (sqlite3_db_status(writer->getHandle(), SQLITE_DBSTATUS_CACHE_WRITE, &frames, &highwater,
                          /*resetFlg=*/1) == SQLITE_OK) {
      wal_frames_observer(frames);
    }
  };
}

}  // namespace

SqliteStore::SqliteStore(std::unique_ptr<SQLite::Database> writer,
                         std::unique_ptr<ConnectionPool> readers,
                         std::unique_ptr<SQLite::Database> checkpoint_connection,
                         std::unique_ptr<EventIndex> event_index, EventCursors event_cursors,
                         const Options& options)
    : events_committed_(options.events_committed),
      writer_(std::move(writer)),
      statements_(std::make_unique<WriterStatements>(*writer_)),
      readers_(std::move(readers)),
      event_index_(std::move(event_index)),
      event_cursors_(event_cursors),
      checkpointer_(checkpoint_connection == nullptr
                        ? nullptr
                        : std::make_unique<Checkpointer>(writer_.get(),
                                                         std::move(checkpoint_connection),
                                                         options.checkpoint_wal_pages)),
      signed_requests_(kSignedRequestBatchIntervalUs),
      commits_(writer_.get(), options.max_writes_per_transaction,
               WithWalFrames(writer_.get(), options.commit_observer, options.wal_frames_observer),
               CommitLinger(options.commit_linger)) {}

SqliteStore::~SqliteStore() {
  // What the last batch of signed requests left out (errors are lost with the process anyway).
  const std::vector<SignedRequests::Write> pending = signed_requests_.TakePending();
  if (pending.empty()) return;
  commits_
      .Run([this, &pending](SQLite::Database&) -> absl::Status {
        WriteSignedRequests(pending);
        return absl::OkStatus();
      })
      .IgnoreError();
}

void SqliteStore::WriteSignedRequests(const std::vector<SignedRequests::Write>& writes) {
  if (writes.empty()) return;  // Most writes: the batch is not due.
  SQLite::Statement& upsert = statements_->record_signed;
  for (const SignedRequests::Write& write : writes) {
    upsert.tryReset();
    upsert.bind(1, write.binding_row_id);
    upsert.bind(2, write.at_us);
    upsert.exec();
  }
  upsert.reset();
}

int64_t SqliteStore::checkpoints() const {
  return checkpointer_ == nullptr ? 0 : checkpointer_->checkpoints();
}

absl::StatusOr<Binding> SqliteStore::InsertActive(const Binding& binding, const Change& change,
                                                  Binding* conflict) {
  Binding stored = binding;
  Binding existing;
  int64_t cursor = 0;
  absl::Status status = commits_.Run([&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement insert(
        db,
        "INSERT INTO bindings (binding_id, team_id, app_name, channel_id, line_id, bot_user_id, "
        "bot_display_name, webhook_key, secret_key_id, secret_sealed, secret_hint, token_key_id, "
        "token_sealed, token_hint, verified_with_line, bound_at_us, bound_by, "
        "credentials_updated_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, binding.binding_id);
    insert.bind(2, binding.team_id);
    insert.bind(3, binding.app_name);
    insert.bind(4, binding.channel_id);
    insert.bind(5, binding.line_id);
    if (binding.bot_user_id.empty()) {
      insert.bind(6);
    } else {
      insert.bind(6, binding.bot_user_id);
    }
    insert.bind(7, binding.bot_display_name);
    insert.bind(8, binding.webhook_key);
    insert.bind(9, binding.channel_secret.key_id);
    BindBlob(insert, 10, binding.channel_secret.ciphertext);
    insert.bind(11, binding.channel_secret_hint);
    insert.bind(12, binding.access_token.key_id);
    BindBlob(insert, 13, binding.access_token.ciphertext);
    insert.bind(14, binding.access_token_hint);
    insert.bind(15, binding.verified_with_line ? 1 : 0);
    insert.bind(16, Micros(binding.bound_at));
    insert.bind(17, binding.bound_by);
    insert.bind(18, Micros(binding.credentials_updated_at));
    try {
      insert.exec();
    } catch (const SQLite::Exception& e) {
      if ((e.getErrorCode() & 0xff) != SQLITE_CONSTRAINT) throw;
      // A unique index refused the row: report which active binding holds the OA.
      auto holder = SelectOne(db,
                              "b.unbound_at_us IS NULL AND (b.channel_id = ? OR b.line_id = ? OR "
                              "(b.bot_user_id IS NOT NULL AND b.bot_user_id = ?))",
                              [&](SQLite::Statement& q) {
                                q.bind(1, binding.channel_id);
                                q.bind(2, binding.line_id);
                                q.bind(3, binding.bot_user_id);
                              });
      if (!holder.ok()) {
        return absl::AlreadyExistsError("storage: the binding id or webhook key is taken");
      }
      existing = *std::move(holder);
      return absl::AlreadyExistsError("storage: the OA has an active binding");
    }
    stored.row_id = db.getLastInsertRowid();
    stored.unbound_at.reset();
    stored.unbound_by.clear();
    stored.attention_reasons.clear();
    stored.bot_suspended = false;
    if (absl::Status audited = InsertAudit(db, stored, "bind", change); !audited.ok())
      return audited;
    cursor = InsertLifecycle(db, event_cursors_, stored, LifecycleKind::kBound, change);
    return absl::OkStatus();
  });
  if (!status.ok()) {
    if (absl::IsAlreadyExists(status) && conflict != nullptr) *conflict = existing;
    return status;
  }
  EventsCommitted(cursor);
  return stored;
}

absl::StatusOr<Binding> SqliteStore::FindActive(absl::string_view team_id,
                                                absl::string_view channel_id) {
  return ReadWith<Binding>(*readers_, "reading a binding", [&](SQLite::Database& db) {
    return SelectOne(db, "b.channel_id = ? AND b.unbound_at_us IS NULL AND b.team_id = ?",
                     [&](SQLite::Statement& q) {
                       q.bind(1, std::string(channel_id));
                       q.bind(2, std::string(team_id));
                     });
  });
}

absl::StatusOr<Binding> SqliteStore::FindActiveByWebhookKey(absl::string_view webhook_key) {
  return ReadWith<Binding>(*readers_, "reading a binding", [&](SQLite::Database& db) {
    return SelectOne(db, "b.webhook_key = ? AND b.unbound_at_us IS NULL",
                     [&](SQLite::Statement& q) { q.bind(1, std::string(webhook_key)); });
  });
}

absl::StatusOr<BindingPage> SqliteStore::ListTeam(absl::string_view team_id, bool include_unbound,
                                                  int64_t after_row_id, int limit) {
  if (limit <= 0) return absl::InvalidArgumentError("storage: limit must be positive");
  if (after_row_id <= 0) after_row_id = std::numeric_limits<int64_t>::max();
  return ReadWith<BindingPage>(*readers_, "listing bindings", [&](SQLite::Database& db) {
    SQLite::Statement query(db, absl::StrCat("SELECT ", kBindingColumns, " FROM ", kBindingTables,
                                             " WHERE b.team_id = ? AND b.row_id < ?",
                                             include_unbound ? "" : " AND b.unbound_at_us IS NULL",
                                             " ORDER BY b.row_id DESC LIMIT ?"));
    query.bind(1, std::string(team_id));
    query.bind(2, after_row_id);
    query.bind(3, limit + 1);  // One more tells whether another page follows.
    BindingPage page;
    while (query.executeStep()) page.bindings.push_back(ReadBinding(query));
    if (static_cast<int>(page.bindings.size()) > limit) {
      page.bindings.pop_back();
      page.next_after_row_id = page.bindings.back().row_id;
    }
    return page;
  });
}

absl::StatusOr<Binding> SqliteStore::MarkUnbound(absl::string_view team_id,
                                                 absl::string_view channel_id,
                                                 const Change& change) {
  absl::StatusOr<Binding> result = absl::NotFoundError("no such binding");
  int64_t cursor = 0;
  absl::Status status = commits_.Run([&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement update(db,
                             "UPDATE bindings SET unbound_at_us = ?, unbound_by = ? "
                             "WHERE channel_id = ? AND unbound_at_us IS NULL AND team_id = ? "
                             "RETURNING row_id");
    update.bind(1, Micros(change.at));
    update.bind(2, change.actor);
    update.bind(3, std::string(channel_id));
    update.bind(4, std::string(team_id));
    if (!update.executeStep()) return absl::NotFoundError("no such binding");
    const int64_t row_id = update.getColumn(0).getInt64();
    update.reset();
    result = SelectByRowId(db, row_id);
    if (!result.ok()) return result.status();
    if (absl::Status audited = InsertAudit(db, *result, "unbind", change); !audited.ok())
      return audited;
    cursor = InsertLifecycle(db, event_cursors_, *result, LifecycleKind::kUnbound, change);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  EventsCommitted(cursor);
  return result;
}

absl::StatusOr<Binding> SqliteStore::ReplaceCredentials(int64_t row_id,
                                                        const CredentialUpdate& update,
                                                        const Change& change) {
  std::vector<std::string> assignments = {"credentials_updated_at_us = :at"};
  if (update.channel_secret) {
    assignments.push_back("secret_key_id = :secret_key_id");
    assignments.push_back("secret_sealed = :secret_sealed");
  }
  if (update.channel_secret_hint) assignments.push_back("secret_hint = :secret_hint");
  if (update.access_token) {
    assignments.push_back("token_key_id = :token_key_id");
    assignments.push_back("token_sealed = :token_sealed");
  }
  if (update.access_token_hint) assignments.push_back("token_hint = :token_hint");
  const std::string sql = absl::StrCat("UPDATE bindings SET ", absl::StrJoin(assignments, ", "),
                                       " WHERE row_id = :row_id AND unbound_at_us IS NULL");

  absl::StatusOr<Binding> result = absl::NotFoundError("no such binding");
  int64_t cursor = 0;
  absl::Status status = commits_.Run([&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement statement(db, sql);
    statement.bind(":at", Micros(change.at));
    statement.bind(":row_id", row_id);
    if (update.channel_secret) {
      statement.bind(":secret_key_id", update.channel_secret->key_id);
      const std::string& bytes = update.channel_secret->ciphertext;
      statement.bind(":secret_sealed", bytes.data(), static_cast<int>(bytes.size()));
    }
    if (update.channel_secret_hint) statement.bind(":secret_hint", *update.channel_secret_hint);
    if (update.access_token) {
      statement.bind(":token_key_id", update.access_token->key_id);
      const std::string& bytes = update.access_token->ciphertext;
      statement.bind(":token_sealed", bytes.data(), static_cast<int>(bytes.size()));
    }
    if (update.access_token_hint) statement.bind(":token_hint", *update.access_token_hint);
    if (statement.exec() == 0) return absl::NotFoundError("no such binding");
    result = SelectByRowId(db, row_id);
    if (!result.ok()) return result.status();
    if (absl::Status audited = InsertAudit(db, *result, "update_credentials", change);
        !audited.ok())
      return audited;
    cursor =
        InsertLifecycle(db, event_cursors_, *result, LifecycleKind::kCredentialsUpdated, change);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  EventsCommitted(cursor);
  return result;
}

absl::StatusOr<std::vector<AuditRecord>> SqliteStore::ListAudit(int64_t row_id) {
  return ReadWith<std::vector<AuditRecord>>(
      *readers_, "reading the audit log", [&](SQLite::Database& db) {
        SQLite::Statement query(db, absl::StrCat("SELECT ", kAuditColumns, " FROM ", kAuditTables,
                                                 " WHERE a.binding_row_id = ? ORDER BY a.id"));
        query.bind(1, row_id);
        std::vector<AuditRecord> records;
        while (query.executeStep()) records.push_back(ReadAudit(query));
        return records;
      });
}

absl::StatusOr<AuditPage> SqliteStore::ListTeamAudit(absl::string_view team_id,
                                                     absl::string_view channel_id,
                                                     int64_t before_id, int limit) {
  if (limit <= 0) return absl::InvalidArgumentError("storage: limit must be positive");
  if (before_id <= 0) before_id = std::numeric_limits<int64_t>::max();
  return ReadWith<AuditPage>(*readers_, "reading the audit log", [&](SQLite::Database& db) {
    SQLite::Statement query(db, absl::StrCat("SELECT ", kAuditColumns, " FROM ", kAuditTables,
                                             " WHERE a.team_id = ? AND a.id < ?",
                                             channel_id.empty() ? "" : " AND a.channel_id = ?",
                                             " ORDER BY a.id DESC LIMIT ?"));
    int index = 0;
    query.bind(++index, std::string(team_id));
    query.bind(++index, before_id);
    if (!channel_id.empty()) query.bind(++index, std::string(channel_id));
    query.bind(++index, limit + 1);  // One more tells whether another page follows.
    AuditPage page;
    while (query.executeStep()) page.records.push_back(ReadAudit(query));
    if (static_cast<int>(page.records.size()) > limit) {
      page.records.pop_back();
      page.next_before_id = page.records.back().id;
    }
    return page;
  });
}

absl::StatusOr<std::vector<SealedSample>> SqliteStore::SampleSealedValues() {
  return ReadWith<std::vector<SealedSample>>(
      *readers_, "reading sealed values", [&](SQLite::Database& db) {
        std::vector<SealedSample> samples;
        for (const auto& [field, key_column, sealed_column] :
             {std::tuple{"channel_secret", "secret_key_id", "secret_sealed"},
              std::tuple{"access_token", "token_key_id", "token_sealed"}}) {
          // Walks the key-id index from one distinct id to the next, so the cost follows the
          // number of keys, not of bindings.
          SQLite::Statement query(
              db, absl::StrCat("WITH RECURSIVE ids(id) AS (SELECT min(", key_column,
                               ") FROM bindings UNION ALL SELECT (SELECT min(", key_column,
                               ") FROM bindings WHERE ", key_column,
                               " > ids.id) FROM ids WHERE ids.id IS NOT NULL) "
                               "SELECT b.",
                               key_column, ", b.channel_id, b.", sealed_column,
                               " FROM ids JOIN bindings b ON b.row_id = (SELECT row_id FROM "
                               "bindings WHERE ",
                               key_column, " = ids.id LIMIT 1)"));
          while (query.executeStep()) {
            SealedSample s;
            s.field = field;
            s.value.key_id = query.getColumn(0).getString();
            s.channel_id = query.getColumn(1).getString();
            s.value.ciphertext = ColumnBytes(query.getColumn(2));
            samples.push_back(std::move(s));
          }
        }
        return samples;
      });
}

absl::StatusOr<std::vector<SealedRow>> SqliteStore::ListSealed(int64_t after_row_id, int limit) {
  return ReadWith<std::vector<SealedRow>>(
      *readers_, "reading sealed values", [&](SQLite::Database& db) {
        SQLite::Statement query(
            db,
            "SELECT row_id, channel_id, secret_key_id, secret_sealed, token_key_id, "
            "token_sealed FROM bindings WHERE row_id > ? ORDER BY row_id LIMIT ?");
        query.bind(1, after_row_id);
        query.bind(2, limit);
        std::vector<SealedRow> rows;
        while (query.executeStep()) {
          SealedRow row;
          row.row_id = query.getColumn(0).getInt64();
          row.channel_id = query.getColumn(1).getString();
          row.channel_secret = {query.getColumn(2).getString(), ColumnBytes(query.getColumn(3))};
          row.access_token = {query.getColumn(4).getString(), ColumnBytes(query.getColumn(5))};
          rows.push_back(std::move(row));
        }
        return rows;
      });
}

absl::StatusOr<int> SqliteStore::ReplaceSealed(const std::vector<Reseal>& reseals) {
  int replaced = 0;
  absl::Status status = commits_.Run([&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement secret(db,
                             "UPDATE bindings SET secret_key_id = ?, secret_sealed = ? "
                             "WHERE row_id = ? AND secret_key_id = ? AND secret_sealed = ?");
    SQLite::Statement token(db,
                            "UPDATE bindings SET token_key_id = ?, token_sealed = ? "
                            "WHERE row_id = ? AND token_key_id = ? AND token_sealed = ?");
    for (const Reseal& r : reseals) {
      SQLite::Statement& update = r.is_secret ? secret : token;
      update.reset();
      update.bind(1, r.new_value.key_id);
      BindBlob(update, 2, r.new_value.ciphertext);
      update.bind(3, r.row_id);
      update.bind(4, r.old_value.key_id);
      BindBlob(update, 5, r.old_value.ciphertext);
      replaced += update.exec();
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return replaced;
}

absl::StatusOr<std::map<std::string, int64_t>> SqliteStore::CountSealedByKey() {
  return ReadWith<std::map<std::string, int64_t>>(
      *readers_, "counting sealed values", [&](SQLite::Database& db) {
        SQLite::Statement query(db,
                                "SELECT key_id, count(*) FROM (SELECT secret_key_id AS key_id "
                                "FROM bindings UNION ALL SELECT token_key_id FROM bindings) "
                                "GROUP BY key_id");
        std::map<std::string, int64_t> counts;
        while (query.executeStep()) {
          counts[query.getColumn(0).getString()] = query.getColumn(1).getInt64();
        }
        return counts;
      });
}

absl::Status SqliteStore::SetAttention(int64_t row_id, const std::vector<std::string>& reasons,
                                       absl::Time checked_at) {
  int64_t cursor = 0;
  absl::Status status = commits_.Run([&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement before(
        db, "SELECT attention_reasons FROM bindings WHERE row_id = ? AND unbound_at_us IS NULL");
    before.bind(1, row_id);
    if (!before.executeStep()) return absl::NotFoundError("no such binding");
    const std::string joined = absl::StrJoin(reasons, "\n");
    // Only a change of the findings is news; a check that finds the same is not.
    const bool changed = before.getColumn(0).getString() != joined;
    before.reset();
    SQLite::Statement update(db,
                             "UPDATE bindings SET attention_reasons = ?, checked_at_us = ? "
                             "WHERE row_id = ?");
    update.bind(1, joined);
    update.bind(2, Micros(checked_at));
    update.bind(3, row_id);
    update.exec();
    if (!changed) return absl::OkStatus();
    absl::StatusOr<Binding> now = SelectByRowId(db, row_id);
    if (!now.ok()) return now.status();
    cursor = InsertLifecycle(db, event_cursors_, *now, LifecycleKind::kStateChanged,
                             Change{"", checked_at, ""});
    return absl::OkStatus();
  });
  if (status.ok()) EventsCommitted(cursor);
  return status;
}

void SqliteStore::EventsCommitted(int64_t cursor) const {
  if (cursor > 0 && events_committed_) events_committed_(cursor);
}

absl::StatusOr<Binding> SqliteStore::RecordProof(int64_t row_id, const Proof& proof,
                                                 const Change& change, Binding* conflict) {
  absl::StatusOr<Binding> result = absl::NotFoundError("no such unverified binding");
  Binding existing;
  int64_t cursor = 0;
  absl::Status status = commits_.Run([&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement update(
        db,
        "UPDATE bindings SET bot_user_id = ?, bot_display_name = ?, verified_with_line = 1, "
        "attention_reasons = '', checked_at_us = ? WHERE row_id = ? AND unbound_at_us IS NULL "
        "AND verified_with_line = 0 AND credentials_updated_at_us = ?");
    update.bind(1, proof.bot_user_id);
    update.bind(2, proof.bot_display_name);
    update.bind(3, Micros(change.at));
    update.bind(4, row_id);
    update.bind(5, Micros(proof.credentials_updated_at));
    try {
      if (update.exec() == 0) return absl::NotFoundError("no such unverified binding");
    } catch (const SQLite::Exception& e) {
      if ((e.getErrorCode() & 0xff) != SQLITE_CONSTRAINT) throw;
      // The bot user id's unique index refused the proof: report who holds the OA.
      auto holder = SelectOne(db, "b.unbound_at_us IS NULL AND b.bot_user_id = ?",
                              [&](SQLite::Statement& q) { q.bind(1, proof.bot_user_id); });
      if (!holder.ok()) return holder.status();
      existing = *std::move(holder);
      return absl::AlreadyExistsError("storage: the OA has another active binding");
    }
    result = SelectByRowId(db, row_id);
    if (!result.ok()) return result.status();
    if (absl::Status audited = InsertAudit(db, *result, "bind", change); !audited.ok()) {
      return audited;
    }
    // Proved: readers hear that the binding is verified and its reasons are gone.
    cursor = InsertLifecycle(db, event_cursors_, *result, LifecycleKind::kStateChanged, change);
    return absl::OkStatus();
  });
  if (!status.ok()) {
    if (absl::IsAlreadyExists(status) && conflict != nullptr) *conflict = existing;
    return status;
  }
  EventsCommitted(cursor);
  return result;
}

absl::Status SqliteStore::SaveCheckRecord(int64_t row_id, const CheckRecord& record) {
  return commits_.Run([&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement upsert(db,
                             "INSERT INTO verify_results (binding_row_id, checked_at_us, result) "
                             "VALUES (?, ?, ?) ON CONFLICT (binding_row_id) DO UPDATE SET "
                             "checked_at_us = excluded.checked_at_us, result = excluded.result");
    upsert.bind(1, row_id);
    upsert.bind(2, Micros(record.checked_at));
    BindBlob(upsert, 3, record.result);
    upsert.exec();
    return absl::OkStatus();
  });
}

absl::StatusOr<CheckRecord> SqliteStore::LastCheckRecord(int64_t row_id) {
  return ReadWith<CheckRecord>(
      *readers_, "reading a check result",
      [&](SQLite::Database& db) -> absl::StatusOr<CheckRecord> {
        SQLite::Statement select(
            db, "SELECT checked_at_us, result FROM verify_results WHERE binding_row_id = ?");
        select.bind(1, row_id);
        if (!select.executeStep()) return absl::NotFoundError("no check result");
        return CheckRecord{FromMicros(select.getColumn(0).getInt64()),
                           ColumnBytes(select.getColumn(1))};
      });
}

absl::StatusOr<bool> SqliteStore::TakeLineTestCall(absl::string_view channel_id, absl::Time at,
                                                   absl::Duration window, int limit) {
  bool taken = false;
  absl::Status status = commits_.Run([&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement forget(db, "DELETE FROM line_test_calls WHERE channel_id = ? AND at_us <= ?");
    forget.bind(1, std::string(channel_id));
    forget.bind(2, Micros(at - window));
    forget.exec();
    SQLite::Statement count(db, "SELECT count(*) FROM line_test_calls WHERE channel_id = ?");
    count.bind(1, std::string(channel_id));
    count.executeStep();
    if (count.getColumn(0).getInt() >= limit) return absl::OkStatus();
    SQLite::Statement take(db, "INSERT INTO line_test_calls (channel_id, at_us) VALUES (?, ?)");
    take.bind(1, std::string(channel_id));
    take.bind(2, Micros(at));
    take.exec();
    taken = true;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return taken;
}

absl::StatusOr<std::vector<Binding>> SqliteStore::ListActive(int64_t after_row_id, int limit) {
  return ReadWith<std::vector<Binding>>(*readers_, "listing bindings", [&](SQLite::Database& db) {
    SQLite::Statement query(
        db, absl::StrCat("SELECT ", kBindingColumns, " FROM ", kBindingTables,
                         " WHERE b.unbound_at_us IS NULL AND b.row_id > ? ORDER BY b.row_id "
                         "LIMIT ?"));
    query.bind(1, after_row_id);
    query.bind(2, limit);
    std::vector<Binding> bindings;
    while (query.executeStep()) bindings.push_back(ReadBinding(query));
    return bindings;
  });
}

void SqliteStore::AppendEvents(EventBatch batch, AppendDone done) {
  // What the write found, and what it told the event index (taken back if its rows do not
  // commit).
  struct Outcome {
    AppendResult result;
    // A row for the event index per event, made here on the caller's thread: the commit
    // thread, the bottleneck of 20-event webhooks, only fills in the cursors and drops the
    // duplicates' rows. Copying these there, with a new key string per look-up, cost it
    // about 1 µs of 8 per event.
    std::vector<EventIndex::TailRow> rows;
    // Each event's EventIndex::TailKey (empty without a webhookEventId), likewise made here.
    std::vector<std::string> keys;
    // The cursors of the first and last rows whose keys the write gave the event index (0 when
    // none).
    int64_t first_keyed_seq = 0;
    int64_t last_keyed_seq = 0;
    // Whether the write told the event index of its rows (EventIndex::Stored).
    bool rows_told = false;
    std::vector<SignedRequests::Write> signed_written;
  };
  auto outcome = std::make_shared<Outcome>();
  outcome->rows.reserve(batch.events.size());
  outcome->keys.reserve(batch.events.size());
  for (const NewEvent& e : batch.events) {
    outcome->rows.push_back({0, batch.team_id, batch.channel_id, e.webhook_event_id});
    outcome->keys.push_back(
        e.webhook_event_id ? EventIndex::TailKey(batch.channel_id, *e.webhook_event_id) : "");
  }
  auto shared_batch = std::make_shared<EventBatch>(std::move(batch));
  commits_.Submit(
      [this, outcome, shared_batch](SQLite::Database& db) -> absl::Status {
        const EventBatch& b = *shared_batch;
        AppendResult* const result = &outcome->result;
        // A write that throws is rolled back to its savepoint at once, and the writes after it
        // in this transaction may carry copies of its events: its keys go now, not when the
        // transaction ends, or those copies would be taken for duplicates and lost.
        absl::Cleanup forget_keys_unless_told = [&] {
          if (!outcome->rows_told) {
            event_index_->Abandoned(outcome->first_keyed_seq, outcome->last_keyed_seq);
          }
        };
        const int64_t received_us = Micros(b.received_at);
        const int64_t cursor_before = event_cursors_.last_given();
        std::vector<EventIndex::TailRow>& rows = outcome->rows;
        std::vector<EventRowInserter::Row> fresh;
        fresh.reserve(b.events.size());
        for (size_t i = 0; i < b.events.size(); ++i) {
          const NewEvent& e = b.events[i];
          if (e.webhook_event_id &&
              event_index_->SeenKey(outcome->keys[i], b.channel_id, *e.webhook_event_id)) {
            ++result->duplicates;
            continue;
          }
          const int64_t seq = event_cursors_.Take();
          // Noted before the rows are inserted, so that a copy later in this batch is seen; if
          // the insert fails, the write fails and its keys go with it (Abandoned).
          if (e.webhook_event_id) {
            event_index_->AddKey(std::move(outcome->keys[i]), seq);
            if (outcome->first_keyed_seq == 0) outcome->first_keyed_seq = seq;
            outcome->last_keyed_seq = seq;
          }
          // Fresh rows move down over the duplicates' (fresh.size() <= i).
          if (fresh.size() != i) rows[fresh.size()] = std::move(rows[i]);
          rows[fresh.size()].seq = seq;
          fresh.push_back({&e, seq});
        }
        rows.resize(fresh.size());
        statements_->insert_events.Insert(b, received_us, fresh);
        result->stored += static_cast<int>(fresh.size());
        if (b.bot_status) ApplyBotStatus(db, b, *result);
        outcome->signed_written =
            signed_requests_.ToWrite(b.binding_row_id, received_us, b.events.empty());
        WriteSignedRequests(outcome->signed_written);
        if (event_cursors_.last_given() != cursor_before) {
          // It stored rows: the last is the newest (cursors grow with every row).
          result->last_cursor = event_cursors_.last_given();
        } else {
          SQLite::Statement& last = statements_->last_cursor;
          last.tryReset();
          if (last.executeStep()) result->last_cursor = last.getColumn(0).getInt64();
          last.reset();
        }
        // Last, once nothing more in this write can fail and roll its rows back.
        event_index_->Stored(std::move(rows));
        outcome->rows_told = true;
        return absl::OkStatus();
      },
      // The store's own bookkeeping, in commit order, before the next transaction.
      [this, outcome, shared_batch](const absl::Status& status) {
        if (!status.ok()) {
          // Not when the write never ran (a store closing answers on the caller's thread). A
          // write that threw has done so already; this is for one whose transaction failed
          // after it (forgetting its keys again is harmless).
          if (outcome->rows_told || outcome->first_keyed_seq != 0) {
            event_index_->Abandoned(outcome->first_keyed_seq, outcome->last_keyed_seq);
          }
          signed_requests_.NotCommitted(outcome->signed_written);
          return;
        }
        signed_requests_.Committed(shared_batch->binding_row_id, Micros(shared_batch->received_at),
                                   outcome->signed_written);
        if (event_index_->PieceDue(outcome->result.last_cursor)) QueueEventIndexPiece();
      },
      [outcome, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(outcome->result));
      });
}

void SqliteStore::QueueEventIndexPiece() {
  event_index_->set_piece_queued(true);
  auto piece = std::make_shared<EventIndex::Piece>();
  commits_.Submit(
      [this, piece](SQLite::Database& db) -> absl::Status {
        *piece = event_index_->IndexPiece(db);
        return absl::OkStatus();
      },
      // Each piece queues the next, which shares the next transaction with the writes queued
      // meanwhile. A piece that failed leaves the rows in the tail, still found and still
      // deduplicated; the next batch of events starts the catch-up again.
      [this, piece](const absl::Status& status) {
        event_index_->set_piece_queued(false);
        event_index_->PieceDone(status.ok(), *piece);
        if (status.ok() && !piece->finished) QueueEventIndexPiece();
      },
      nullptr);
}

void SqliteStore::ApplyBotStatus(SQLite::Database& db, const EventBatch& batch,
                                 AppendResult& result) {
  const BotStatusChange& change = *batch.bot_status;
  SQLite::Statement before(db,
                           "SELECT bot_suspended, bot_status_at_us FROM bindings "
                           "WHERE row_id = ? AND unbound_at_us IS NULL");
  before.bind(1, batch.binding_row_id);
  if (!before.executeStep()) return;  // Unbound meanwhile: nothing to change.
  const bool was_suspended = before.getColumn(0).getInt() != 0;
  const std::optional<absl::Time> last = OptionalTime(before.getColumn(1));
  before.reset();
  // A late redelivery of an older botSuspended or botResumed must not undo a newer one.
  if (last.has_value() && *last >= change.at) return;
  SQLite::Statement update(
      db, "UPDATE bindings SET bot_suspended = ?, bot_status_at_us = ? WHERE row_id = ?");
  update.bind(1, change.suspended ? 1 : 0);
  update.bind(2, Micros(change.at));
  update.bind(3, batch.binding_row_id);
  update.exec();
  if (was_suspended == change.suspended) return;
  absl::StatusOr<Binding> now = SelectByRowId(db, batch.binding_row_id);
  if (!now.ok()) return;
  InsertLifecycle(db, event_cursors_, *now,
                  change.suspended ? LifecycleKind::kBotSuspended : LifecycleKind::kBotResumed,
                  Change{"", batch.received_at, ""});
  ++result.lifecycle_stored;
}

absl::StatusOr<std::vector<StoredEvent>> SqliteStore::ReadEvents(const EventQuery& query) {
  if (query.limit <= 0) return absl::InvalidArgumentError("storage: limit must be positive");
  return ReadWith<std::vector<StoredEvent>>(
      *readers_, "reading events",
      [&](SQLite::Database& db) -> absl::StatusOr<std::vector<StoredEvent>> {
        // The watermark, the team's cursors and the rows, all of one moment.
        SQLite::Transaction snapshot(db);
        const int64_t indexed_through = db.execAndGet(kEventsIndexedThrough).getInt64();
        const std::string channel = query.channel_id.empty() ? "" : " AND e.channel_id = :channel";
        const auto select = [&](absl::string_view where, absl::string_view order) {
          // The team is checked on every row, even one its cursors led to: no bug in them may
          // show a team another team's events.
          auto statement = std::make_unique<SQLite::Statement>(
              db, absl::StrCat(kStoredEventSelect, " WHERE ", where, " AND e.team_id = :team",
                               channel, order));
          statement->bind(":team", query.team_id);
          if (!query.channel_id.empty()) statement->bind(":channel", query.channel_id);
          return statement;
        };
        std::vector<StoredEvent> events;
        // The rows up to the watermark, through the team's cursors...
        if (query.after_cursor < indexed_through) {
          const std::unique_ptr<SQLite::Statement> row = select("e.seq = :seq", "");
          absl::Status walked = ForEachTeamCursor(
              db, query.team_id, query.after_cursor, indexed_through, [&](int64_t cursor) {
                row->reset();
                row->bind(":seq", cursor);
                // Retention may have deleted it; or it is of another channel.
                if (row->executeStep()) events.push_back(ReadStoredEvent(*row));
                return static_cast<int>(events.size()) < query.limit;
              });
          if (!walked.ok()) return walked;
        }
        // ...then the newer ones (the tail, at most a few batches), by their rowids.
        if (static_cast<int>(events.size()) < query.limit) {
          const std::unique_ptr<SQLite::Statement> tail =
              select("e.seq > max(:after, :indexed)", " ORDER BY e.seq LIMIT :limit");
          tail->bind(":after", query.after_cursor);
          tail->bind(":indexed", indexed_through);
          tail->bind(":limit", query.limit - static_cast<int>(events.size()));
          while (tail->executeStep()) events.push_back(ReadStoredEvent(*tail));
        }
        return events;
      });
}

void SqliteStore::RecordTrouble(int64_t binding_row_id, WebhookTrouble trouble, absl::Time at,
                                std::function<void(absl::Status)> done) {
  const char* column = trouble == WebhookTrouble::kBadSignature ? "last_bad_signature_at_us"
                                                                : "last_destination_mismatch_at_us";
  const std::string sql =
      absl::StrCat("INSERT INTO webhook_activity (binding_row_id, ", column, ") VALUES (?, ?) ",
                   "ON CONFLICT (binding_row_id) DO UPDATE SET ", column, " = max(coalesce(",
                   column, ", 0), excluded.", column, ")");
  commits_.Submit(
      [sql, binding_row_id, at](SQLite::Database& db) -> absl::Status {
        SQLite::Statement upsert(db, sql);
        upsert.bind(1, binding_row_id);
        upsert.bind(2, Micros(at));
        upsert.exec();
        return absl::OkStatus();
      },
      nullptr, std::move(done));
}

absl::StatusOr<WebhookActivity> SqliteStore::ReadActivity(int64_t binding_row_id) {
  return ReadWith<WebhookActivity>(
      *readers_, "reading webhook activity", [&](SQLite::Database& db) {
        SQLite::Statement select(db,
                                 "SELECT last_signed_at_us, last_bad_signature_at_us, "
                                 "last_destination_mismatch_at_us FROM webhook_activity "
                                 "WHERE binding_row_id = ?");
        select.bind(1, binding_row_id);
        WebhookActivity activity;
        if (select.executeStep()) {
          const auto time = [&](int column) -> std::optional<absl::Time> {
            if (select.getColumn(column).isNull()) return std::nullopt;
            return FromMicros(select.getColumn(column).getInt64());
          };
          activity.last_signed_request = time(0);
          activity.last_bad_signature = time(1);
          activity.last_destination_mismatch = time(2);
        }
        const std::optional<int64_t> newest = signed_requests_.Newest(binding_row_id);
        if (newest.has_value() && (!activity.last_signed_request.has_value() ||
                                   FromMicros(*newest) > *activity.last_signed_request)) {
          activity.last_signed_request = FromMicros(*newest);
        }
        return activity;
      });
}

absl::StatusOr<int> SqliteStore::DeleteEventsReceivedBefore(absl::Time cutoff, int limit) {
  int deleted = 0;
  int64_t through = 0;
  absl::Status status;
  absl::Notification finished;
  // Events are appended in receive order, so the oldest rows by cursor are the oldest
  // received: looking only at the first `limit` of them keeps each delete short. The tail is
  // indexed first, so that every row deleted takes its once-per-OA key with it.
  commits_.Submit(
      [&](SQLite::Database& db) -> absl::Status {
        through = event_index_->CatchUp(db);
        if (absl::Status kept = event_cursors_.KeepAboveDeleted(db); !kept.ok()) return kept;
        const std::string expired =
            "SELECT seq FROM (SELECT seq, received_at_us FROM events ORDER BY seq "
            "LIMIT :limit) WHERE received_at_us < :cutoff";
        // The keys go first, found through the rows they belong to.
        for (const std::string& sql :
             {absl::StrCat("DELETE FROM events_once_per_oa WHERE (webhook_event_id, channel_id) "
                           "IN (SELECT webhook_event_id, channel_id FROM events WHERE seq IN (",
                           expired, ") AND webhook_event_id IS NOT NULL)"),
              absl::StrCat("DELETE FROM events WHERE seq IN (", expired, ")")}) {
          SQLite::Statement erase(db, sql);
          erase.bind(":limit", limit);
          erase.bind(":cutoff", Micros(cutoff));
          deleted = erase.exec();
        }
        // A team's row of cursors goes once every cursor in it is below the oldest row left
        // (readers pass over the cursors of deleted rows until then), and so does a team's
        // newest catch-up.
        // A team's newest is never below its rows: it goes with them, found through them, so
        // that a batch does not read the newest of every team.
        for (const char* sql :
             {"DELETE FROM events_team_newest WHERE through_seq < :oldest AND team_id IN "
              "(SELECT team_id FROM events_team_cursors WHERE through_seq < :oldest)",
              "DELETE FROM events_team_cursors WHERE through_seq < :oldest"}) {
          SQLite::Statement erase(db, sql);
          erase.bind(":oldest", db.execAndGet("SELECT coalesce(min(seq), 9223372036854775807) "
                                              "FROM events")
                                    .getInt64());
          erase.exec();
        }
        return absl::OkStatus();
      },
      [&](const absl::Status& done) { event_index_->CaughtUp(done.ok(), through); },
      [&](absl::Status done) {
        status = std::move(done);
        finished.Notify();
      });
  finished.WaitForNotification();
  if (!status.ok()) return status;
  return deleted;
}

absl::StatusOr<bool> SqliteStore::RunIfDue(absl::string_view name, absl::Duration period,
                                           absl::Time now, const std::function<void()>& job) {
  {
    absl::MutexLock lock(&jobs_mu_);
    if (!running_jobs_.emplace(name).second) return false;
  }
  const auto done = [&] {
    absl::MutexLock lock(&jobs_mu_);
    running_jobs_.erase(running_jobs_.find(name));
  };
  auto last = ReadWith<std::optional<int64_t>>(
      *readers_, "reading the job schedule", [&](SQLite::Database& db) -> std::optional<int64_t> {
        SQLite::Statement select(db, "SELECT started_at_us FROM job_runs WHERE name = ?");
        select.bind(1, std::string(name));
        if (!select.executeStep()) return std::nullopt;
        return select.getColumn(0).getInt64();
      });
  if (!last.ok() || (last->has_value() && now - FromMicros(**last) < period)) {
    done();
    if (!last.ok()) return last.status();
    return false;
  }
  job();
  absl::Status recorded = commits_.Run([&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement upsert(
        db,
        "INSERT INTO job_runs (name, started_at_us) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET started_at_us = excluded.started_at_us");
    upsert.bind(1, std::string(name));
    upsert.bind(2, Micros(now));
    upsert.exec();
    return absl::OkStatus();
  });
  done();
  if (!recorded.ok()) return recorded;
  return true;
}

absl::StatusOr<PushAdmission> SqliteStore::Admit(const PushRecord& push) {
  PushAdmission admission;
  absl::Status status = commits_.Run([&](SQLite::Database&) -> absl::Status {
    // The unique (binding, request id) constraint decides whether this call creates the push.
    SQLite::Statement& insert = statements_->insert_push;
    insert.tryReset();
    insert.bind(1, push.binding_row_id);
    insert.bindNoCopy(2, push.request_id);
    insert.bindNoCopy(3, push.retry_key);
    insert.bindNoCopy(4, push.request_digest);
    insert.bindNoCopy(5, push.to);
    insert.bindNoCopy(6, push.messages_json);
    insert.bind(7, push.notification_disabled ? 1 : 0);
    insert.bind(8, Micros(push.accepted_at));
    insert.bind(9, Micros(push.next_attempt_at));
    insert.bind(10, Micros(push.lease_until));
    admission.created = insert.exec() == 1;
    insert.reset();
    insert.clearBindings();
    SQLite::Statement& select = statements_->push_by_request;
    select.tryReset();
    select.bind(1, push.binding_row_id);
    select.bindNoCopy(2, push.request_id);
    absl::StatusOr<PushRecord> stored = ReadOnePush(select);
    if (!stored.ok()) return stored.status();
    admission.push = *std::move(stored);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return admission;
}

absl::StatusOr<PushRecord> SqliteStore::Find(int64_t binding_row_id, absl::string_view request_id) {
  return ReadWith<PushRecord>(*readers_, "reading a push", [&](SQLite::Database& db) {
    return SelectPushByRequest(db, binding_row_id, std::string(request_id));
  });
}

absl::StatusOr<std::vector<PushRecord>> SqliteStore::LeaseDue(absl::Time now,
                                                              absl::Time lease_until, int limit) {
  std::vector<PushRecord> leased;
  // Retry threads ask often and there is usually nothing due: a read answers that without
  // taking a turn of the commit queue, where webhooks wait.
  absl::StatusOr<bool> any_due = ReadWith<bool>(
      *readers_, "looking for due pushes", [&](SQLite::Database& db) -> absl::StatusOr<bool> {
        SQLite::Statement query(db,
                                "SELECT 1 FROM pushes WHERE state = 'pending' AND "
                                "next_attempt_at_us <= ? AND lease_until_us <= ? LIMIT 1");
        query.bind(1, Micros(now));
        query.bind(2, Micros(now));
        return query.executeStep();
      });
  if (!any_due.ok()) return any_due.status();
  if (!*any_due) return leased;
  absl::Status status = commits_.Run([&](SQLite::Database& db) -> absl::Status {
    leased.clear();
    SQLite::Statement lease(
        db,
        absl::StrCat("UPDATE pushes SET lease_until_us = ?, attempts = attempts + 1 WHERE id IN "
                     "(SELECT id FROM "
                     "pushes WHERE state = 'pending' AND next_attempt_at_us <= ? AND "
                     "lease_until_us <= ? ORDER BY next_attempt_at_us, id LIMIT ?) "
                     "RETURNING ",
                     kPushColumns));
    lease.bind(1, Micros(lease_until));
    lease.bind(2, Micros(now));
    lease.bind(3, Micros(now));
    lease.bind(4, limit);
    while (lease.executeStep()) leased.push_back(ReadPush(lease));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  // RETURNING hands rows out in no particular order.
  std::sort(leased.begin(), leased.end(), [](const PushRecord& a, const PushRecord& b) {
    return std::tie(a.next_attempt_at, a.id) < std::tie(b.next_attempt_at, b.id);
  });
  return leased;
}

absl::StatusOr<PushRecord> SqliteStore::RecordAttempt(const PushAttempt& attempt) {
  absl::StatusOr<PushRecord> result = absl::NotFoundError("no such push");
  absl::Status status = commits_.Run([&](SQLite::Database&) -> absl::Status {
    // Only a pending push changes: one that ended was finished by another sender first.
    const bool pending = attempt.outcome == PushState::kPending;
    SQLite::Statement& update = pending ? statements_->reschedule_push : statements_->end_push;
    update.tryReset();
    update.bind(":id", attempt.push_id);
    update.bind(":at", Micros(attempt.at));
    update.bindNoCopy(":reason", attempt.failure_reason);
    update.bindNoCopy(":message", attempt.failure_message);
    if (pending) {
      update.bind(":next", Micros(attempt.next_attempt_at));
    } else {
      update.bind(":state", std::string(PushStateName(attempt.outcome)));
      update.bindNoCopy(":line_request_id", attempt.line_request_id);
      update.bindNoCopy(":sent", attempt.sent_messages_json);
    }
    update.exec();
    update.reset();
    update.clearBindings();
    SQLite::Statement& select = statements_->push_by_id;
    select.tryReset();
    select.bind(1, attempt.push_id);
    result = ReadOnePush(select);
    return result.status();
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<int> SqliteStore::DeleteEndedBefore(absl::Time cutoff, int limit) {
  int deleted = 0;
  absl::Status status = commits_.Run([&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement erase(db,
                            "DELETE FROM pushes WHERE id IN (SELECT id FROM pushes WHERE "
                            "state <> 'pending' AND finished_at_us < ? "
                            "ORDER BY finished_at_us, id LIMIT ?)");
    erase.bind(1, Micros(cutoff));
    erase.bind(2, limit);
    deleted = erase.exec();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return deleted;
}

absl::StatusOr<SqliteStore::WriterDurability> SqliteStore::ReadWriterDurability() {
  WriterDurability durability;
  // The writer connection belongs to the commit queue's thread.
  absl::Status status = commits_.Run([&](SQLite::Database& db) {
    durability.journal_mode = db.execAndGet("PRAGMA journal_mode").getString();
    durability.synchronous = db.execAndGet("PRAGMA synchronous").getInt();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return durability;
}

absl::Status SqliteStore::CheckIntegrity() {
  auto findings = ReadWith<std::vector<std::string>>(
      *readers_, "checking integrity", [&](SQLite::Database& db) {
        SQLite::Statement query(db, "PRAGMA integrity_check");
        std::vector<std::string> lines;
        while (query.executeStep()) lines.push_back(query.getColumn(0).getString());
        return lines;
      });
  if (!findings.ok()) return findings.status();
  if (findings->size() == 1 && (*findings)[0] == "ok") return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat("storage: integrity check: ", absl::StrJoin(*findings, "; ")));
}

}  // namespace linechannel::storage
