#include "storage/postgres/pg_schema.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace linechannel::storage {
namespace {

// The advisory lock key under which migrations run ("LCHB", as the SQLite file's
// application id).
constexpr int64_t kMigrationLock = 0x4c434842;

// Forward migrations; entry i takes the schema from version i to i + 1. Never edit an entry
// that has shipped: add a new one. The tables mirror the SQLite store's (sqlite/schema.cc),
// except the event cursor (see `pos`).
const std::vector<std::string>& Migrations() {
  static const auto* migrations = new std::vector<std::string>{
      R"sql(
CREATE TABLE bindings (
  row_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  binding_id text NOT NULL UNIQUE,
  team_id text NOT NULL,
  app_name text NOT NULL,
  channel_id text NOT NULL,
  line_id text NOT NULL,
  bot_user_id text,
  bot_display_name text NOT NULL,
  webhook_key text NOT NULL UNIQUE,
  secret_key_id text NOT NULL,
  secret_sealed bytea NOT NULL,
  secret_hint text NOT NULL,
  token_key_id text NOT NULL,
  token_sealed bytea NOT NULL,
  token_hint text NOT NULL,
  verified_with_line boolean NOT NULL,
  bound_at_us bigint NOT NULL,
  bound_by text NOT NULL,
  credentials_updated_at_us bigint NOT NULL,
  unbound_at_us bigint,
  unbound_by text,
  attention_reasons text NOT NULL DEFAULT '',
  checked_at_us bigint
);
-- One team per OA, across every replica: among active bindings each identifier of the OA
-- appears once, and the unique index decides between concurrent binds.
CREATE UNIQUE INDEX bindings_one_active_channel ON bindings (channel_id)
  WHERE unbound_at_us IS NULL;
CREATE UNIQUE INDEX bindings_one_active_line_id ON bindings (line_id)
  WHERE unbound_at_us IS NULL;
CREATE UNIQUE INDEX bindings_one_active_bot ON bindings (bot_user_id)
  WHERE unbound_at_us IS NULL AND bot_user_id IS NOT NULL;
CREATE INDEX bindings_by_team ON bindings (team_id, row_id);
CREATE INDEX bindings_active ON bindings (row_id) WHERE unbound_at_us IS NULL;
CREATE INDEX bindings_by_secret_key ON bindings (secret_key_id);
CREATE INDEX bindings_by_token_key ON bindings (token_key_id);

CREATE TABLE audit_log (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  binding_row_id bigint NOT NULL REFERENCES bindings (row_id),
  team_id text NOT NULL,
  channel_id text NOT NULL,
  action text NOT NULL CHECK (action IN ('bind', 'unbind', 'update_credentials')),
  actor text NOT NULL,
  at_us bigint NOT NULL,
  detail text NOT NULL
);
CREATE INDEX audit_by_binding ON audit_log (binding_row_id, id);

-- pos, the event cursor, is (id of the inserting transaction << 20) + the event's place in
-- that transaction's one INSERT. Readers deliver only events of transactions older than the
-- oldest one still running, so an event that commits late can never land behind a cursor a
-- reader already passed (a sequence would hand out numbers before commit, in another order).
-- binding_row_id has no foreign key: bindings are never deleted, and checking (and locking)
-- the binding row for every event cost a third of the insert.
CREATE TABLE events (
  pos bigint PRIMARY KEY,
  binding_row_id bigint NOT NULL,
  team_id text NOT NULL,
  channel_id text NOT NULL,
  webhook_event_id text,
  type text NOT NULL,
  timestamp_ms bigint NOT NULL,
  mode text NOT NULL,
  redelivery boolean NOT NULL,
  source_type text NOT NULL,
  source_user_id text NOT NULL,
  source_group_id text NOT NULL,
  source_room_id text NOT NULL,
  received_at_us bigint NOT NULL,
  raw_json text NOT NULL
);
-- Exactly once per event, whichever replica a copy reached.
CREATE UNIQUE INDEX events_once ON events (binding_row_id, webhook_event_id)
  WHERE webhook_event_id IS NOT NULL;
CREATE INDEX events_by_team ON events (team_id, pos);
CREATE INDEX events_by_team_channel ON events (team_id, channel_id, pos);

CREATE TABLE webhook_activity (
  binding_row_id bigint PRIMARY KEY REFERENCES bindings (row_id),
  last_signed_at_us bigint,
  last_bad_signature_at_us bigint,
  last_destination_mismatch_at_us bigint
);

CREATE TABLE line_test_calls (
  channel_id text NOT NULL,
  at_us bigint NOT NULL
);
CREATE INDEX line_test_calls_by_channel ON line_test_calls (channel_id, at_us);

CREATE TABLE verify_results (
  binding_row_id bigint PRIMARY KEY REFERENCES bindings (row_id),
  checked_at_us bigint NOT NULL,
  result bytea NOT NULL
);
)sql",
      // 2: when each background job last started (job_schedule.h), shared by the replicas.
      R"sql(
CREATE TABLE job_runs (
  name text PRIMARY KEY,
  started_at_us bigint NOT NULL
);
)sql",
      // 3: the push outbox (push_outbox.h), shared by the replicas: a push from acceptance
      // until LINE answers, then the record of how it ended (its messages emptied).
      R"sql(
CREATE TABLE pushes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  binding_row_id bigint NOT NULL REFERENCES bindings (row_id),
  request_id text NOT NULL,
  retry_key text NOT NULL,
  request_digest text NOT NULL,
  recipient text NOT NULL,
  messages_json text NOT NULL,
  notification_disabled boolean NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
  attempts integer NOT NULL,
  accepted_at_us bigint NOT NULL,
  next_attempt_at_us bigint NOT NULL,
  lease_until_us bigint NOT NULL,
  finished_at_us bigint,
  line_request_id text NOT NULL,
  sent_messages_json text NOT NULL,
  failure_reason text NOT NULL,
  failure_message text NOT NULL,
  -- One push per request id of a binding, whichever replica admitted it.
  UNIQUE (binding_row_id, request_id)
);
CREATE INDEX pushes_due ON pushes (next_attempt_at_us) WHERE state = 'pending';
CREATE INDEX pushes_ended ON pushes (finished_at_us) WHERE finished_at_us IS NOT NULL;
)sql",
      // 4: a team's audit trail newest first, whole or of one channel (ListTeamAudit);
      // audit_by_binding serves only one binding at a time.
      R"sql(
CREATE INDEX audit_by_team ON audit_log (team_id, id);
CREATE INDEX audit_by_team_channel ON audit_log (team_id, channel_id, id);
)sql",
      // 5: webhook events are stored once per OA (channel id) and webhookEventId, no longer
      // once per binding: LINE may redeliver an event long after it first came, after the OA
      // was unbound and bound again. Databases written before this version can hold one event
      // under several bindings of an OA; the earliest copy (lowest pos) is kept and the later
      // ones are deleted, so that the new index can be built.
      R"sql(
DELETE FROM events WHERE pos IN (
  SELECT pos FROM (
    SELECT pos, row_number() OVER (PARTITION BY channel_id, webhook_event_id ORDER BY pos) AS n
      FROM events WHERE webhook_event_id IS NOT NULL) AS copies
   WHERE n > 1);
DROP INDEX events_once;
CREATE UNIQUE INDEX events_once_per_oa ON events (channel_id, webhook_event_id)
  WHERE webhook_event_id IS NOT NULL;
)sql",
      // 6: lifecycle events and the bot's suspension, as SQLite's migration 9. A lifecycle
      // event takes its pos like webhook events (its transaction's id << 20, plus its place).
      R"sql(
ALTER TABLE events ADD COLUMN lifecycle text;
ALTER TABLE events ADD COLUMN lifecycle_actor text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN lifecycle_detail text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN lifecycle_reasons text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN lifecycle_suspended boolean NOT NULL DEFAULT false;
ALTER TABLE bindings ADD COLUMN bot_suspended boolean NOT NULL DEFAULT false;
ALTER TABLE bindings ADD COLUMN bot_status_at_us bigint;
)sql",
  };
  return *migrations;
}

absl::Status Migrate(PgConnection& db) {
  auto existing = db.Exec(
      "SELECT to_regclass('channeld_schema') IS NOT NULL, (SELECT count(*) FROM pg_tables "
      "WHERE schemaname = current_schema())",
      "reading the schema version");
  if (!existing.ok()) return existing.status();
  int version = 0;
  if (existing->Bool(0, 0)) {
    auto read = db.Exec("SELECT version FROM channeld_schema", "reading the schema version");
    if (!read.ok()) return read.status();
    if (read->rows() == 1) version = static_cast<int>(read->Int(0, 0));
  } else if (existing->Int(0, 1) != 0) {
    return absl::FailedPreconditionError(
        "storage: the PostgreSQL database holds tables of some other program; give channeld "
        "a database of its own");
  }
  if (version > CurrentPostgresSchemaVersion()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "storage: the PostgreSQL database has schema version ", version,
        " but this build of channeld knows versions up to ", CurrentPostgresSchemaVersion(),
        "; run a newer channeld"));
  }
  for (; version < CurrentPostgresSchemaVersion(); ++version) {
    const std::string what = absl::StrCat("migrating the schema to version ", version + 1);
    auto begun = db.Exec("BEGIN", what);
    if (!begun.ok()) return begun.status();
    absl::Status status = absl::OkStatus();
    if (version == 0) {
      status = db.Exec("CREATE TABLE channeld_schema (version integer NOT NULL); "
                       "INSERT INTO channeld_schema VALUES (0)",
                       what)
                   .status();
    }
    if (status.ok()) status = db.Exec(Migrations()[version], what).status();
    if (status.ok()) {
      status = db.Exec("UPDATE channeld_schema SET version = $1",
                       PgParams().Int(version + 1), what)
                   .status();
    }
    if (status.ok()) status = db.Exec("COMMIT", what).status();
    if (!status.ok()) {
      if (db.in_transaction()) (void)db.Exec("ROLLBACK", what);
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace

int CurrentPostgresSchemaVersion() { return static_cast<int>(Migrations().size()); }

absl::Status MigratePostgresSchema(PgConnection& db) {
  // No lock timeout for this wait: another replica's migration takes as long as it takes.
  auto locked = db.Exec(
      absl::StrCat("SET lock_timeout = 0; SELECT pg_advisory_lock(", kMigrationLock, ")"),
      "waiting for another replica's schema migration");
  if (!locked.ok()) return locked.status();
  absl::Status status = Migrate(db);
  (void)db.Exec(absl::StrCat("SELECT pg_advisory_unlock(", kMigrationLock, ")"),
                "ending the schema migration");
  return status;
}

}  // namespace linechannel::storage
