#include "storage/sqlite/schema.h"

#include <algorithm>
#include <string>
#include <vector>

#include "SQLiteCpp/Statement.h"
#include "SQLiteCpp/Transaction.h"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "storage/sqlite/sqlite_errors.h"
#include "storage/sqlite/team_cursors.h"

namespace linechannel::storage {
namespace {

// Marks the file as ours ("LCHB"), so that pointing the server at some other SQLite file is
// refused instead of migrated.
constexpr int kApplicationId = 0x4c434842;

// Forward migrations; entry i takes the schema from version i to i + 1. Never edit an entry
// that has shipped: add a new one.
const std::vector<std::string>& Migrations() {
  static const auto* migrations = new std::vector<std::string>{
      // 1: bindings with their audit trail.
      R"sql(
CREATE TABLE bindings (
  row_id INTEGER PRIMARY KEY,
  binding_id TEXT NOT NULL UNIQUE,
  team_id TEXT NOT NULL,
  app_name TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  line_id TEXT NOT NULL,
  bot_user_id TEXT,
  bot_display_name TEXT NOT NULL,
  webhook_key TEXT NOT NULL UNIQUE,
  secret_key_id TEXT NOT NULL,
  secret_sealed BLOB NOT NULL,
  secret_hint TEXT NOT NULL,
  token_key_id TEXT NOT NULL,
  token_sealed BLOB NOT NULL,
  token_hint TEXT NOT NULL,
  verified_with_line INTEGER NOT NULL,
  bound_at_us INTEGER NOT NULL,
  bound_by TEXT NOT NULL,
  credentials_updated_at_us INTEGER NOT NULL,
  unbound_at_us INTEGER,
  unbound_by TEXT
) STRICT;
-- One team per OA: among active bindings each identifier of the OA appears once.
CREATE UNIQUE INDEX bindings_one_active_channel ON bindings(channel_id)
  WHERE unbound_at_us IS NULL;
CREATE UNIQUE INDEX bindings_one_active_line_id ON bindings(line_id)
  WHERE unbound_at_us IS NULL;
CREATE UNIQUE INDEX bindings_one_active_bot ON bindings(bot_user_id)
  WHERE unbound_at_us IS NULL AND bot_user_id IS NOT NULL;
CREATE INDEX bindings_by_team ON bindings(team_id, row_id);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  binding_row_id INTEGER NOT NULL REFERENCES bindings(row_id),
  team_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('bind', 'unbind', 'update_credentials')),
  actor TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  detail TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_binding ON audit_log(binding_row_id, id);
)sql",
      // 2: webhook events, stored once per (binding, webhookEventId), and what the webhook
      // endpoint saw per binding.
      R"sql(
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  binding_row_id INTEGER NOT NULL REFERENCES bindings(row_id),
  team_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  webhook_event_id TEXT,
  type TEXT NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  mode TEXT NOT NULL,
  redelivery INTEGER NOT NULL,
  source_type TEXT NOT NULL,
  source_user_id TEXT NOT NULL,
  source_group_id TEXT NOT NULL,
  source_room_id TEXT NOT NULL,
  received_at_us INTEGER NOT NULL,
  raw_json TEXT NOT NULL
) STRICT;
-- Exactly once per event: redeliveries and duplicates of a webhookEventId are skipped.
CREATE UNIQUE INDEX events_once ON events(binding_row_id, webhook_event_id)
  WHERE webhook_event_id IS NOT NULL;
CREATE INDEX events_by_team ON events(team_id, seq);
CREATE INDEX events_by_team_channel ON events(team_id, channel_id, seq);

CREATE TABLE webhook_activity (
  binding_row_id INTEGER PRIMARY KEY REFERENCES bindings(row_id),
  last_signed_at_us INTEGER,
  last_bad_signature_at_us INTEGER,
  last_destination_mismatch_at_us INTEGER
) STRICT;
)sql",
      // 3: binding health (what the last check with LINE found), the budget of LINE's
      // test-webhook calls, and VerifyWebhook's last full answer per binding.
      R"sql(
ALTER TABLE bindings ADD COLUMN attention_reasons TEXT NOT NULL DEFAULT '';
ALTER TABLE bindings ADD COLUMN checked_at_us INTEGER;
CREATE INDEX bindings_active ON bindings(row_id) WHERE unbound_at_us IS NULL;

CREATE TABLE line_test_calls (
  channel_id TEXT NOT NULL,
  at_us INTEGER NOT NULL
) STRICT;
CREATE INDEX line_test_calls_by_channel ON line_test_calls(channel_id, at_us);

CREATE TABLE verify_results (
  binding_row_id INTEGER PRIMARY KEY REFERENCES bindings(row_id),
  checked_at_us INTEGER NOT NULL,
  result BLOB NOT NULL
) STRICT;
)sql",
      // 4: start-up samples one sealed value per key id; without these it sorts every binding.
      R"sql(
CREATE INDEX bindings_by_secret_key ON bindings(secret_key_id);
CREATE INDEX bindings_by_token_key ON bindings(token_key_id);
)sql",
      // 5: when each background job last started (job_schedule.h).
      R"sql(
CREATE TABLE job_runs (
  name TEXT PRIMARY KEY,
  started_at_us INTEGER NOT NULL
) STRICT;
)sql",
      // 6: the push outbox (push_outbox.h): a push from acceptance until LINE answers, then
      // the record of how it ended (its messages emptied).
      R"sql(
CREATE TABLE pushes (
  id INTEGER PRIMARY KEY,
  binding_row_id INTEGER NOT NULL REFERENCES bindings(row_id),
  request_id TEXT NOT NULL,
  retry_key TEXT NOT NULL,
  request_digest TEXT NOT NULL,
  recipient TEXT NOT NULL,
  messages_json TEXT NOT NULL,
  notification_disabled INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
  attempts INTEGER NOT NULL,
  accepted_at_us INTEGER NOT NULL,
  next_attempt_at_us INTEGER NOT NULL,
  lease_until_us INTEGER NOT NULL,
  finished_at_us INTEGER,
  line_request_id TEXT NOT NULL,
  sent_messages_json TEXT NOT NULL,
  failure_reason TEXT NOT NULL,
  failure_message TEXT NOT NULL,
  -- One push per request id of a binding: the constraint decides between concurrent admissions.
  UNIQUE (binding_row_id, request_id)
) STRICT;
CREATE INDEX pushes_due ON pushes(next_attempt_at_us) WHERE state = 'pending';
CREATE INDEX pushes_ended ON pushes(finished_at_us) WHERE finished_at_us IS NOT NULL;
)sql",
      // 7: a team's audit trail newest first, whole or of one channel (ListTeamAudit);
      // audit_by_binding serves only one binding at a time.
      R"sql(
CREATE INDEX audit_by_team ON audit_log(team_id, id);
CREATE INDEX audit_by_team_channel ON audit_log(team_id, channel_id, id);
)sql",
      // 8: webhook events are stored once per OA (channel id) and webhookEventId, no longer
      // once per binding: LINE may redeliver an event long after it first came, after the OA
      // was unbound and bound again. Files written before this version can hold one event
      // under several bindings of an OA; the earliest copy (lowest seq) is kept and the later
      // ones are deleted, so that the new index can be built.
      R"sql(
DELETE FROM events WHERE seq IN (
  SELECT seq FROM (
    SELECT seq, row_number() OVER (PARTITION BY channel_id, webhook_event_id ORDER BY seq) AS n
      FROM events WHERE webhook_event_id IS NOT NULL)
   WHERE n > 1);
DROP INDEX events_once;
CREATE UNIQUE INDEX events_once_per_oa ON events(channel_id, webhook_event_id)
  WHERE webhook_event_id IS NOT NULL;
)sql",
      // 9: lifecycle events (the channel's own: bound, unbound, credentials updated, state
      // changed, bot suspended or resumed) in the events table, so they share the cursor with
      // LINE's events; lifecycle is NULL for LINE's. They have no webhook_event_id, so
      // events_once_per_oa never applies to them. And whether LINE has the bot suspended, with
      // the LINE timestamp of the last botSuspended or botResumed applied.
      R"sql(
ALTER TABLE events ADD COLUMN lifecycle TEXT;
ALTER TABLE events ADD COLUMN lifecycle_actor TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN lifecycle_detail TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN lifecycle_reasons TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN lifecycle_suspended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bindings ADD COLUMN bot_suspended INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bindings ADD COLUMN bot_status_at_us INTEGER;
)sql",
      // 10: fewer pages written per stored event (issue 15). Every commit writes each index page
      // it touches to the log whole, and an index keyed by team or channel takes a commit's
      // entries in as many places as there are teams or channels in it. A team's events of one
      // channel are found through events_by_team now (the team's other events are read past,
      // never another team's), so events_by_team_channel, the third such index, goes.
      // IF EXISTS: it is only a way in, so a file without it is no error.
      R"sql(
DROP INDEX IF EXISTS events_by_team_channel;
)sql",
      // 11: the events table's two ways in are kept in batches, no longer on every commit
      // (issue 15). An index keyed by team or by OA takes each commit's entries in as many
      // places as there are teams or OAs in it, and the log gets every page it touches whole:
      // most of what an event cost on disk. Now the newest rows (seq above events_indexed) are
      // found by the rowid alone, and their keys are added to the tables below, sorted, many
      // thousand at a time (storage/sqlite/event_index.h). The once-per-OA table is keyed by
      // webhookEventId first: LINE's ids are ULIDs that begin with the event's time, so each
      // batch lands at its right edge.
      R"sql(
DROP INDEX events_by_team;
DROP INDEX events_once_per_oa;
CREATE TABLE events_by_team (
  team_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (team_id, seq)
) STRICT, WITHOUT ROWID;
CREATE TABLE events_once_per_oa (
  webhook_event_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  PRIMARY KEY (webhook_event_id, channel_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE events_indexed (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  through_seq INTEGER NOT NULL
) STRICT;
INSERT INTO events_by_team (team_id, seq) SELECT team_id, seq FROM events ORDER BY team_id, seq;
INSERT INTO events_once_per_oa (webhook_event_id, channel_id)
  SELECT webhook_event_id, channel_id FROM events WHERE webhook_event_id IS NOT NULL
   ORDER BY webhook_event_id, channel_id;
INSERT INTO events_indexed (one, through_seq) SELECT 1, coalesce(max(seq), 0) FROM events;
)sql",
      // 12: a team's way in holds one row per catch-up and team, no longer a key per event
      // (storage/sqlite/team_cursors.h): a catch-up put a page of events_by_team per team into
      // the log; its rows now go in after the last catch-up's, onto a few pages. The keys up to
      // the watermark become rows of 4096 cursors' span each, as if made by catch-ups of that
      // size; keys above it (a catch-up cut off) are dropped, and the next catch-up makes them.
      // events_team_newest names each team's last catch-up, where a walk of its rows may stop.
      // team_cursors() is registered by MigrateSchema.
      R"sql(
CREATE TABLE events_team_cursors (
  through_seq INTEGER NOT NULL,
  team_id TEXT NOT NULL,
  cursors BLOB NOT NULL,
  PRIMARY KEY (through_seq, team_id)
) STRICT, WITHOUT ROWID;
INSERT INTO events_team_cursors (through_seq, team_id, cursors)
  SELECT min(k.seq / 4096 * 4096 + 4095, w.through_seq), k.team_id, team_cursors(k.seq)
    FROM events_by_team k, events_indexed w
   WHERE k.seq <= w.through_seq
   GROUP BY k.seq / 4096, k.team_id
   ORDER BY 1, 2;
CREATE TABLE events_team_newest (
  team_id TEXT PRIMARY KEY,
  through_seq INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO events_team_newest (team_id, through_seq)
  SELECT team_id, max(through_seq) FROM events_team_cursors GROUP BY team_id;
DROP TABLE events_by_team;
)sql",
      // 13: the events table without AUTOINCREMENT (issue 15): it made every stored event
      // read and rewrite sqlite_sequence, a tenth of the commit thread's time per event. The
      // store gives cursors itself now (storage/sqlite/event_cursors.h), above the greatest
      // it ever gave: the newest row's, or events_cursor_floor's, which retention raises before
      // it deletes. The floor starts at what sqlite_sequence held, so that no cursor given
      // before is given again. A file of version 2 on has sqlite_sequence; one made otherwise
      // (by hand) gets it from the AUTOINCREMENT table made and dropped first. Every row is
      // copied once, in cursor order.
      R"sql(
CREATE TABLE events_sequence_probe (id INTEGER PRIMARY KEY AUTOINCREMENT);
DROP TABLE events_sequence_probe;
CREATE TABLE events_cursor_floor (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  seq INTEGER NOT NULL
) STRICT;
INSERT INTO events_cursor_floor (one, seq)
  SELECT 1, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0);
CREATE TABLE events_new (
  seq INTEGER PRIMARY KEY,
  binding_row_id INTEGER NOT NULL REFERENCES bindings(row_id),
  team_id TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  webhook_event_id TEXT,
  type TEXT NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  mode TEXT NOT NULL,
  redelivery INTEGER NOT NULL,
  source_type TEXT NOT NULL,
  source_user_id TEXT NOT NULL,
  source_group_id TEXT NOT NULL,
  source_room_id TEXT NOT NULL,
  received_at_us INTEGER NOT NULL,
  raw_json TEXT NOT NULL,
  lifecycle TEXT,
  lifecycle_actor TEXT NOT NULL DEFAULT '',
  lifecycle_detail TEXT NOT NULL DEFAULT '',
  lifecycle_reasons TEXT NOT NULL DEFAULT '',
  lifecycle_suspended INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO events_new (seq, binding_row_id, team_id, channel_id, webhook_event_id, type,
    timestamp_ms, mode, redelivery, source_type, source_user_id, source_group_id,
    source_room_id, received_at_us, raw_json, lifecycle, lifecycle_actor, lifecycle_detail,
    lifecycle_reasons, lifecycle_suspended)
  SELECT seq, binding_row_id, team_id, channel_id, webhook_event_id, type, timestamp_ms, mode,
         redelivery, source_type, source_user_id, source_group_id, source_room_id,
         received_at_us, raw_json, lifecycle, lifecycle_actor, lifecycle_detail,
         lifecycle_reasons, lifecycle_suspended
    FROM events ORDER BY seq;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
)sql",
  };
  return *migrations;
}

}  // namespace

int CurrentSchemaVersion() { return static_cast<int>(Migrations().size()); }

absl::Status MigrateSchema(SQLite::Database& db, int to_version) {
  try {
    const int application_id = db.execAndGet("PRAGMA application_id").getInt();
    int version = db.execAndGet("PRAGMA user_version").getInt();
    if (application_id != 0 && application_id != kApplicationId) {
      return absl::FailedPreconditionError(
          absl::StrCat("storage: ", db.getFilename(),
                       " is not a channeld database (application_id ", application_id, ")"));
    }
    if (application_id == 0 && version != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "storage: ", db.getFilename(), " is a SQLite database of some other program"));
    }
    if (version > CurrentSchemaVersion()) {
      return absl::FailedPreconditionError(
          absl::StrCat("storage: ", db.getFilename(), " has schema version ", version,
                       " but this build of channeld knows versions up to ", CurrentSchemaVersion(),
                       "; run a newer channeld"));
    }
    if (application_id == 0 && version == 0) {
      // A brand-new file must hold no tables of anyone else.
      const int tables = db.execAndGet("SELECT count(*) FROM sqlite_schema").getInt();
      if (tables != 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "storage: ", db.getFilename(), " is a SQLite database of some other program"));
      }
    }
    if (absl::Status registered = RegisterTeamCursorsFunction(db.getHandle()); !registered.ok()) {
      return registered;
    }
    const int target = std::min(to_version, CurrentSchemaVersion());
    if (version >= target) return absl::OkStatus();
    // SQLite's way for changes ALTER TABLE cannot make (version 13 rebuilds the events table):
    // foreign keys off while a migration runs, and its transaction commits only if
    // foreign_key_check finds nothing then. With them on, dropping the old table deleted its
    // rows one at a time: a third of the time version 13 took on a million events.
    const bool foreign_keys = db.execAndGet("PRAGMA foreign_keys").getInt() != 0;
    db.exec("PRAGMA foreign_keys = OFF");
    absl::Cleanup restore = [&db, foreign_keys] {
      if (!foreign_keys) return;
      try {
        db.exec("PRAGMA foreign_keys = ON");
      } catch (const SQLite::Exception&) {
        // The connection is failing already; its next statement reports why.
      }
    };
    for (; version < target; ++version) {
      SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
      db.exec(Migrations()[version]);
      SQLite::Statement dangling(db, "PRAGMA foreign_key_check");
      if (dangling.executeStep()) {
        return absl::FailedPreconditionError(
            absl::StrCat("storage: ", db.getFilename(), " has rows in ",
                         dangling.getColumn(0).getString(), " whose foreign key names no row of ",
                         dangling.getColumn(2).getString(), " after migrating to schema version ",
                         version + 1, "; the file stays at version ", version));
      }
      db.exec(absl::StrCat("PRAGMA application_id = ", kApplicationId));
      db.exec(absl::StrCat("PRAGMA user_version = ", version + 1));
      transaction.commit();
    }
    return absl::OkStatus();
  } catch (const SQLite::Exception& e) {
    return StatusFromSqlite(e, "migrating the schema");
  }
}

}  // namespace linechannel::storage
