#include "storage/postgres/postgres_store.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "storage/postgres/pg_array.h"
#include "storage/postgres/pg_schema.h"

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

// Reads row `r` of a result selected with kBindingColumns.
// Audit rows are read with their binding's public id.
constexpr char kAuditColumns[] =
    "a.id, a.binding_row_id, b.binding_id, a.team_id, a.channel_id, a.action, a.actor, a.at_us, "
    "a.detail";
constexpr char kAuditTables[] = "audit_log a JOIN bindings b ON b.row_id = a.binding_row_id";

// Reads row `r` selected with kAuditColumns.
AuditRecord ReadAudit(const PgResult& row, int r) {
  AuditRecord a;
  a.id = row.Int(r, 0);
  a.binding_row_id = row.Int(r, 1);
  a.binding_id = row.Text(r, 2);
  a.team_id = row.Text(r, 3);
  a.channel_id = row.Text(r, 4);
  a.action = row.Text(r, 5);
  a.actor = row.Text(r, 6);
  a.at = row.Micros(r, 7);
  a.detail = row.Text(r, 8);
  return a;
}

Binding ReadBinding(const PgResult& row, int r) {
  Binding b;
  b.row_id = row.Int(r, 0);
  b.binding_id = row.Text(r, 1);
  b.team_id = row.Text(r, 2);
  b.app_name = row.Text(r, 3);
  b.channel_id = row.Text(r, 4);
  b.line_id = row.Text(r, 5);
  b.bot_user_id = row.IsNull(r, 6) ? "" : row.Text(r, 6);
  b.bot_display_name = row.Text(r, 7);
  b.webhook_key = row.Text(r, 8);
  b.channel_secret = {row.Text(r, 9), row.Bytes(r, 10)};
  b.channel_secret_hint = row.Text(r, 11);
  b.access_token = {row.Text(r, 12), row.Bytes(r, 13)};
  b.access_token_hint = row.Text(r, 14);
  b.verified_with_line = row.Bool(r, 15);
  b.bound_at = row.Micros(r, 16);
  b.bound_by = row.Text(r, 17);
  b.credentials_updated_at = row.Micros(r, 18);
  if (!row.IsNull(r, 19)) {
    b.unbound_at = row.Micros(r, 19);
    b.unbound_by = row.Text(r, 20);
  }
  const std::string reasons = row.Text(r, 21);
  if (!reasons.empty()) b.attention_reasons = absl::StrSplit(reasons, '\n');
  b.checked_at = row.OptionalMicros(r, 22);
  b.activity.last_signed_request = row.OptionalMicros(r, 23);
  b.activity.last_bad_signature = row.OptionalMicros(r, 24);
  b.activity.last_destination_mismatch = row.OptionalMicros(r, 25);
  b.bot_suspended = row.Bool(r, 26);
  return b;
}

// The binding selected by `where` with `params`; NOT_FOUND if there is none.
absl::StatusOr<Binding> SelectOne(PgConnection& db, absl::string_view where,
                                  const PgParams& params) {
  auto rows = db.Exec(absl::StrCat("SELECT ", kBindingColumns, " FROM ", kBindingTables,
                                   " WHERE ", where, " LIMIT 1"),
                      params, "reading a binding");
  if (!rows.ok()) return rows.status();
  if (rows->rows() == 0) return absl::NotFoundError("no such binding");
  return ReadBinding(*rows, 0);
}

absl::StatusOr<Binding> SelectByRowId(PgConnection& db, int64_t row_id) {
  return SelectOne(db, "b.row_id = $1", PgParams().Int(row_id));
}

absl::Status InsertAudit(PgConnection& db, const Binding& binding, absl::string_view action,
                         const Change& change) {
  return db
      .Exec("INSERT INTO audit_log (binding_row_id, team_id, channel_id, action, actor, at_us, "
            "detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            PgParams()
                .Int(binding.row_id)
                .Text(binding.team_id)
                .Text(binding.channel_id)
                .Text(action)
                .Text(change.actor)
                .Int(Micros(change.at))
                .Text(change.detail),
            "writing the audit log")
      .status();
}

// Stores a lifecycle event of `binding` (as it is after the change) in the transaction of the
// change, with the cursor webhook events get (pg_schema.cc: this transaction's id << 20, plus
// 1: a binding change stores one lifecycle event), and tells every replica's listener at
// commit. Every binding change already notifies inside its transaction, so this adds no lock.
absl::Status InsertLifecycle(PgConnection& db, const Binding& binding, LifecycleKind kind,
                             const Change& change) {
  auto inserted = db.Exec(
      "INSERT INTO events (pos, binding_row_id, team_id, channel_id, webhook_event_id, type, "
      "timestamp_ms, mode, redelivery, source_type, source_user_id, source_group_id, "
      "source_room_id, received_at_us, raw_json, lifecycle, lifecycle_actor, lifecycle_detail, "
      "lifecycle_reasons, lifecycle_suspended) "
      "VALUES ((pg_current_xact_id()::text::bigint << 20) + 1, $1, $2, $3, NULL, $4, $5, '', "
      "false, '', '', '', '', $6, '', $4, $7, $8, $9, $10) RETURNING pos",
      PgParams()
          .Int(binding.row_id)
          .Text(binding.team_id)
          .Text(binding.channel_id)
          .Text(LifecycleKindName(kind))
          .Int(absl::ToUnixMillis(change.at))
          .Int(Micros(change.at))
          .Text(change.actor)
          .Text(change.detail)
          .Text(absl::StrJoin(binding.attention_reasons, "\n"))
          .Bool(binding.bot_suspended),
      "storing a lifecycle event");
  if (!inserted.ok()) return inserted.status();
  return NotifyEventsStored(db, inserted->Int(0, 0));
}

constexpr char kPushColumns[] =
    "id, binding_row_id, request_id, retry_key, request_digest, recipient, messages_json, "
    "notification_disabled, state, attempts, accepted_at_us, next_attempt_at_us, "
    "lease_until_us, finished_at_us, line_request_id, sent_messages_json, failure_reason, "
    "failure_message";

// Reads row `r` of a result selected with kPushColumns.
PushRecord ReadPush(const PgResult& row, int r) {
  PushRecord p;
  p.id = row.Int(r, 0);
  p.binding_row_id = row.Int(r, 1);
  p.request_id = row.Text(r, 2);
  p.retry_key = row.Text(r, 3);
  p.request_digest = row.Text(r, 4);
  p.to = row.Text(r, 5);
  p.messages_json = row.Text(r, 6);
  p.notification_disabled = row.Bool(r, 7);
  p.state = PushStateNamed(row.Text(r, 8));
  p.attempts = static_cast<int>(row.Int(r, 9));
  p.accepted_at = row.Micros(r, 10);
  p.next_attempt_at = row.Micros(r, 11);
  p.lease_until = row.Micros(r, 12);
  p.finished_at = row.OptionalMicros(r, 13);
  p.line_request_id = row.Text(r, 14);
  p.sent_messages_json = row.Text(r, 15);
  p.failure_reason = row.Text(r, 16);
  p.failure_message = row.Text(r, 17);
  return p;
}

// The push selected by `where` with `params`; NOT_FOUND if there is none.
absl::StatusOr<PushRecord> SelectPush(PgConnection& db, absl::string_view where,
                                      const PgParams& params) {
  auto rows = db.Exec(absl::StrCat("SELECT ", kPushColumns, " FROM pushes WHERE ", where), params,
                      "reading a push");
  if (!rows.ok()) return rows.status();
  if (rows->rows() == 0) return absl::NotFoundError("no such push");
  return ReadPush(*rows, 0);
}

void Ignore(int64_t) {}
void IgnoreNothing() {}

PgChangeListener::Callbacks WithDefaults(PgChangeListener::Callbacks callbacks) {
  if (!callbacks.binding_changed) callbacks.binding_changed = Ignore;
  if (!callbacks.changes_missed) callbacks.changes_missed = IgnoreNothing;
  if (!callbacks.events_deliverable) callbacks.events_deliverable = Ignore;
  return callbacks;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(Options options) {
  {
    auto db = PgConnection::Open({options.url, options.lock_timeout});
    if (!db.ok()) return db.status();
    if (absl::Status migrated = MigratePostgresSchema(**db); !migrated.ok()) return migrated;
  }
  return std::unique_ptr<PostgresStore>(new PostgresStore(options));
}

PostgresStore::PostgresStore(const Options& options)
    : settings_{options.url, options.lock_timeout},
      pool_({options.url, options.lock_timeout}, options.connections),
      writer_(PgEventWriter::Options{{options.url, options.lock_timeout},
                                     options.max_batches_per_transaction,
                                     options.commit_observer,
                                     options.before_event_write}),
      listener_({options.url, options.lock_timeout}, WithDefaults(options.on_change)) {}

PostgresStore::~PostgresStore() = default;

bool PostgresStore::reachable() const { return listener_.connected(); }

absl::StatusOr<Binding> PostgresStore::InsertActive(const Binding& binding, const Change& change,
                                                    Binding* conflict) {
  Binding stored = binding;
  absl::Status status = InTransaction(pool_, "binding", [&](PgConnection& db) -> absl::Status {
    auto inserted = db.Exec(
        "INSERT INTO bindings (binding_id, team_id, app_name, channel_id, line_id, bot_user_id, "
        "bot_display_name, webhook_key, secret_key_id, secret_sealed, secret_hint, token_key_id, "
        "token_sealed, token_hint, verified_with_line, bound_at_us, bound_by, "
        "credentials_updated_at_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
        "$13, $14, $15, $16, $17, $18) RETURNING row_id",
        PgParams()
            .Text(binding.binding_id)
            .Text(binding.team_id)
            .Text(binding.app_name)
            .Text(binding.channel_id)
            .Text(binding.line_id)
            .TextOrNull(binding.bot_user_id)
            .Text(binding.bot_display_name)
            .Text(binding.webhook_key)
            .Text(binding.channel_secret.key_id)
            .Bytes(binding.channel_secret.ciphertext)
            .Text(binding.channel_secret_hint)
            .Text(binding.access_token.key_id)
            .Bytes(binding.access_token.ciphertext)
            .Text(binding.access_token_hint)
            .Bool(binding.verified_with_line)
            .Int(Micros(binding.bound_at))
            .Text(binding.bound_by)
            .Int(Micros(binding.credentials_updated_at)),
        "binding");
    if (!inserted.ok()) return inserted.status();
    stored.row_id = inserted->Int(0, 0);
    stored.unbound_at.reset();
    stored.unbound_by.clear();
    stored.attention_reasons.clear();
    stored.bot_suspended = false;
    if (absl::Status s = InsertAudit(db, stored, "bind", change); !s.ok()) return s;
    if (absl::Status s = InsertLifecycle(db, stored, LifecycleKind::kBound, change); !s.ok()) {
      return s;
    }
    return NotifyBindingChanged(db, stored.row_id);
  });
  if (status.ok()) return stored;
  if (!IsUniqueViolation(status)) return status;
  // A unique index refused the row: report which active binding holds the OA. The winner of
  // a race has committed by now (the index waited for it).
  auto holder = ReadWith<Binding>(pool_, [&](PgConnection& db) {
    return SelectOne(db,
                     "b.unbound_at_us IS NULL AND (b.channel_id = $1 OR b.line_id = $2 OR "
                     "(b.bot_user_id IS NOT NULL AND b.bot_user_id = $3))",
                     PgParams().Text(binding.channel_id).Text(binding.line_id).Text(
                         binding.bot_user_id));
  });
  if (!holder.ok()) {
    if (!absl::IsNotFound(holder.status())) return holder.status();
    if (conflict != nullptr) *conflict = Binding();
    return absl::AlreadyExistsError("storage: the binding id or webhook key is taken");
  }
  if (conflict != nullptr) *conflict = *std::move(holder);
  return absl::AlreadyExistsError("storage: the OA has an active binding");
}

absl::StatusOr<Binding> PostgresStore::FindActive(absl::string_view team_id,
                                                  absl::string_view channel_id) {
  return ReadWith<Binding>(pool_, [&](PgConnection& db) {
    return SelectOne(db, "b.channel_id = $1 AND b.unbound_at_us IS NULL AND b.team_id = $2",
                     PgParams().Text(channel_id).Text(team_id));
  });
}

absl::StatusOr<Binding> PostgresStore::FindActiveByWebhookKey(absl::string_view webhook_key) {
  return ReadWith<Binding>(pool_, [&](PgConnection& db) {
    return SelectOne(db, "b.webhook_key = $1 AND b.unbound_at_us IS NULL",
                     PgParams().Text(webhook_key));
  });
}

absl::StatusOr<BindingPage> PostgresStore::ListTeam(absl::string_view team_id,
                                                    bool include_unbound, int64_t after_row_id,
                                                    int limit) {
  if (limit <= 0) return absl::InvalidArgumentError("storage: limit must be positive");
  if (after_row_id <= 0) after_row_id = std::numeric_limits<int64_t>::max();
  return ReadWith<BindingPage>(pool_, [&](PgConnection& db) -> absl::StatusOr<BindingPage> {
    auto rows = db.Exec(
        absl::StrCat("SELECT ", kBindingColumns, " FROM ", kBindingTables,
                     " WHERE b.team_id = $1 AND b.row_id < $2",
                     include_unbound ? "" : " AND b.unbound_at_us IS NULL",
                     " ORDER BY b.row_id DESC LIMIT $3"),
        // One more than asked tells whether another page follows.
        PgParams().Text(team_id).Int(after_row_id).Int(limit + 1), "listing bindings");
    if (!rows.ok()) return rows.status();
    BindingPage page;
    for (int r = 0; r < rows->rows(); ++r) page.bindings.push_back(ReadBinding(*rows, r));
    if (static_cast<int>(page.bindings.size()) > limit) {
      page.bindings.pop_back();
      page.next_after_row_id = page.bindings.back().row_id;
    }
    return page;
  });
}

absl::StatusOr<Binding> PostgresStore::MarkUnbound(absl::string_view team_id,
                                                   absl::string_view channel_id,
                                                   const Change& change) {
  absl::StatusOr<Binding> result = absl::NotFoundError("no such binding");
  absl::Status status = InTransaction(pool_, "unbinding", [&](PgConnection& db) -> absl::Status {
    auto updated = db.Exec(
        "UPDATE bindings SET unbound_at_us = $1, unbound_by = $2 "
        "WHERE channel_id = $3 AND unbound_at_us IS NULL AND team_id = $4 RETURNING row_id",
        PgParams().Int(Micros(change.at)).Text(change.actor).Text(channel_id).Text(team_id),
        "unbinding");
    if (!updated.ok()) return updated.status();
    if (updated->rows() == 0) return absl::NotFoundError("no such binding");
    result = SelectByRowId(db, updated->Int(0, 0));
    if (!result.ok()) return result.status();
    if (absl::Status s = InsertAudit(db, *result, "unbind", change); !s.ok()) return s;
    if (absl::Status s = InsertLifecycle(db, *result, LifecycleKind::kUnbound, change); !s.ok()) {
      return s;
    }
    return NotifyBindingChanged(db, result->row_id);
  });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<Binding> PostgresStore::ReplaceCredentials(int64_t row_id,
                                                          const CredentialUpdate& update,
                                                          const Change& change) {
  PgParams params;
  params.Int(Micros(change.at)).Int(row_id);
  std::vector<std::string> assignments = {"credentials_updated_at_us = $1"};
  const auto assign = [&](absl::string_view column) {
    assignments.push_back(absl::StrCat(column, " = $", params.size()));
  };
  if (update.channel_secret) {
    params.Text(update.channel_secret->key_id);
    assign("secret_key_id");
    params.Bytes(update.channel_secret->ciphertext);
    assign("secret_sealed");
  }
  if (update.channel_secret_hint) {
    params.Text(*update.channel_secret_hint);
    assign("secret_hint");
  }
  if (update.access_token) {
    params.Text(update.access_token->key_id);
    assign("token_key_id");
    params.Bytes(update.access_token->ciphertext);
    assign("token_sealed");
  }
  if (update.access_token_hint) {
    params.Text(*update.access_token_hint);
    assign("token_hint");
  }
  const std::string sql = absl::StrCat("UPDATE bindings SET ", absl::StrJoin(assignments, ", "),
                                       " WHERE row_id = $2 AND unbound_at_us IS NULL");
  absl::StatusOr<Binding> result = absl::NotFoundError("no such binding");
  absl::Status status =
      InTransaction(pool_, "updating credentials", [&](PgConnection& db) -> absl::Status {
        auto updated = db.Exec(sql, params, "updating credentials");
        if (!updated.ok()) return updated.status();
        if (updated->affected() == 0) return absl::NotFoundError("no such binding");
        result = SelectByRowId(db, row_id);
        if (!result.ok()) return result.status();
        if (absl::Status s = InsertAudit(db, *result, "update_credentials", change); !s.ok()) {
          return s;
        }
        if (absl::Status s =
                InsertLifecycle(db, *result, LifecycleKind::kCredentialsUpdated, change);
            !s.ok()) {
          return s;
        }
        return NotifyBindingChanged(db, row_id);
      });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<std::vector<AuditRecord>> PostgresStore::ListAudit(int64_t row_id) {
  return ReadWith<std::vector<AuditRecord>>(
      pool_, [&](PgConnection& db) -> absl::StatusOr<std::vector<AuditRecord>> {
        auto rows = db.Exec(absl::StrCat("SELECT ", kAuditColumns, " FROM ", kAuditTables,
                                         " WHERE a.binding_row_id = $1 ORDER BY a.id"),
                            PgParams().Int(row_id), "reading the audit log");
        if (!rows.ok()) return rows.status();
        std::vector<AuditRecord> records;
        for (int r = 0; r < rows->rows(); ++r) records.push_back(ReadAudit(*rows, r));
        return records;
      });
}

absl::StatusOr<AuditPage> PostgresStore::ListTeamAudit(absl::string_view team_id,
                                                       absl::string_view channel_id,
                                                       int64_t before_id, int limit) {
  if (limit <= 0) return absl::InvalidArgumentError("storage: limit must be positive");
  if (before_id <= 0) before_id = std::numeric_limits<int64_t>::max();
  return ReadWith<AuditPage>(pool_, [&](PgConnection& db) -> absl::StatusOr<AuditPage> {
    // One more than asked tells whether another page follows.
    PgParams params;
    params.Text(team_id).Int(before_id).Int(limit + 1);
    if (!channel_id.empty()) params.Text(channel_id);
    auto rows = db.Exec(absl::StrCat("SELECT ", kAuditColumns, " FROM ", kAuditTables,
                                     " WHERE a.team_id = $1 AND a.id < $2",
                                     channel_id.empty() ? "" : " AND a.channel_id = $4",
                                     " ORDER BY a.id DESC LIMIT $3"),
                        params, "reading the audit log");
    if (!rows.ok()) return rows.status();
    AuditPage page;
    for (int r = 0; r < rows->rows(); ++r) page.records.push_back(ReadAudit(*rows, r));
    if (static_cast<int>(page.records.size()) > limit) {
      page.records.pop_back();
      page.next_before_id = page.records.back().id;
    }
    return page;
  });
}

absl::Status PostgresStore::SetAttention(int64_t row_id, const std::vector<std::string>& reasons,
                                         absl::Time checked_at) {
  const std::string joined = absl::StrJoin(reasons, "\n");
  return InTransaction(pool_, "recording a check", [&](PgConnection& db) -> absl::Status {
    // The row lock orders concurrent checks of one binding, so each compares with the
    // findings the one before it stored.
    auto before = db.Exec(
        "SELECT attention_reasons FROM bindings WHERE row_id = $1 AND unbound_at_us IS NULL "
        "FOR UPDATE",
        PgParams().Int(row_id), "recording a check");
    if (!before.ok()) return before.status();
    if (before->rows() == 0) return absl::NotFoundError("no such binding");
    // Only a change of the findings is news; a check that finds the same is not.
    const bool changed = before->Text(0, 0) != joined;
    auto updated =
        db.Exec("UPDATE bindings SET attention_reasons = $1, checked_at_us = $2 WHERE row_id = $3",
                PgParams().Text(joined).Int(Micros(checked_at)).Int(row_id), "recording a check");
    if (!updated.ok()) return updated.status();
    if (changed) {
      absl::StatusOr<Binding> now = SelectByRowId(db, row_id);
      if (!now.ok()) return now.status();
      if (absl::Status s =
              InsertLifecycle(db, *now, LifecycleKind::kStateChanged, Change{"", checked_at, ""});
          !s.ok()) {
        return s;
      }
    }
    return NotifyBindingChanged(db, row_id);
  });
}

absl::StatusOr<Binding> PostgresStore::RecordProof(int64_t row_id, const Proof& proof,
                                                   const Change& change, Binding* conflict) {
  absl::StatusOr<Binding> result = absl::NotFoundError("no such unverified binding");
  absl::Status status =
      InTransaction(pool_, "recording a proof", [&](PgConnection& db) -> absl::Status {
        auto updated = db.Exec(
            "UPDATE bindings SET bot_user_id = $1, bot_display_name = $2, "
            "verified_with_line = true, attention_reasons = '', checked_at_us = $3 "
            "WHERE row_id = $4 AND unbound_at_us IS NULL AND NOT verified_with_line "
            "AND credentials_updated_at_us = $5",
            PgParams()
                .Text(proof.bot_user_id)
                .Text(proof.bot_display_name)
                .Int(Micros(change.at))
                .Int(row_id)
                .Int(Micros(proof.credentials_updated_at)),
            "recording a proof");
        if (!updated.ok()) return updated.status();
        if (updated->affected() == 0) return absl::NotFoundError("no such unverified binding");
        result = SelectByRowId(db, row_id);
        if (!result.ok()) return result.status();
        if (absl::Status s = InsertAudit(db, *result, "bind", change); !s.ok()) return s;
        // Proved: readers hear that the binding is verified and its reasons are gone.
        if (absl::Status s = InsertLifecycle(db, *result, LifecycleKind::kStateChanged, change);
            !s.ok()) {
          return s;
        }
        return NotifyBindingChanged(db, row_id);
      });
  if (status.ok()) return result;
  if (!IsUniqueViolation(status)) return status;
  // The bot user id's unique index refused the proof: report who holds the OA.
  auto holder = ReadWith<Binding>(pool_, [&](PgConnection& db) {
    return SelectOne(db, "b.unbound_at_us IS NULL AND b.bot_user_id = $1",
                     PgParams().Text(proof.bot_user_id));
  });
  if (!holder.ok()) return holder.status();
  if (conflict != nullptr) *conflict = *std::move(holder);
  return absl::AlreadyExistsError("storage: the OA has another active binding");
}

absl::StatusOr<std::vector<Binding>> PostgresStore::ListActive(int64_t after_row_id, int limit) {
  return ReadWith<std::vector<Binding>>(
      pool_, [&](PgConnection& db) -> absl::StatusOr<std::vector<Binding>> {
        auto rows = db.Exec(absl::StrCat("SELECT ", kBindingColumns, " FROM ", kBindingTables,
                                         " WHERE b.unbound_at_us IS NULL AND b.row_id > $1 "
                                         "ORDER BY b.row_id LIMIT $2"),
                            PgParams().Int(after_row_id).Int(limit), "listing bindings");
        if (!rows.ok()) return rows.status();
        std::vector<Binding> bindings;
        for (int r = 0; r < rows->rows(); ++r) bindings.push_back(ReadBinding(*rows, r));
        return bindings;
      });
}

absl::StatusOr<std::vector<SealedSample>> PostgresStore::SampleSealedValues() {
  return ReadWith<std::vector<SealedSample>>(
      pool_, [&](PgConnection& db) -> absl::StatusOr<std::vector<SealedSample>> {
        std::vector<SealedSample> samples;
        for (const auto& [field, key_column, sealed_column] :
             {std::tuple{"channel_secret", "secret_key_id", "secret_sealed"},
              std::tuple{"access_token", "token_key_id", "token_sealed"}}) {
          // Walks the key-id index from one distinct id to the next (a "loose index scan"),
          // so the cost follows the number of keys, not of bindings.
          auto rows = db.Exec(
              absl::StrCat("WITH RECURSIVE ids(id) AS (SELECT min(", key_column,
                           ") FROM bindings UNION ALL SELECT (SELECT min(", key_column,
                           ") FROM bindings WHERE ", key_column,
                           " > ids.id) FROM ids WHERE ids.id IS NOT NULL) "
                           "SELECT b.", key_column, ", b.channel_id, b.", sealed_column,
                           " FROM ids CROSS JOIN LATERAL (SELECT * FROM bindings WHERE ",
                           key_column, " = ids.id LIMIT 1) b"),
              "reading sealed values");
          if (!rows.ok()) return rows.status();
          for (int r = 0; r < rows->rows(); ++r) {
            SealedSample s;
            s.field = field;
            s.value.key_id = rows->Text(r, 0);
            s.channel_id = rows->Text(r, 1);
            s.value.ciphertext = rows->Bytes(r, 2);
            samples.push_back(std::move(s));
          }
        }
        return samples;
      });
}

absl::StatusOr<std::vector<SealedRow>> PostgresStore::ListSealed(int64_t after_row_id,
                                                                 int limit) {
  return ReadWith<std::vector<SealedRow>>(
      pool_, [&](PgConnection& db) -> absl::StatusOr<std::vector<SealedRow>> {
        auto rows = db.Exec(
            "SELECT row_id, channel_id, secret_key_id, secret_sealed, token_key_id, "
            "token_sealed FROM bindings WHERE row_id > $1 ORDER BY row_id LIMIT $2",
            PgParams().Int(after_row_id).Int(limit), "reading sealed values");
        if (!rows.ok()) return rows.status();
        std::vector<SealedRow> out;
        for (int r = 0; r < rows->rows(); ++r) {
          SealedRow row;
          row.row_id = rows->Int(r, 0);
          row.channel_id = rows->Text(r, 1);
          row.channel_secret = {rows->Text(r, 2), rows->Bytes(r, 3)};
          row.access_token = {rows->Text(r, 4), rows->Bytes(r, 5)};
          out.push_back(std::move(row));
        }
        return out;
      });
}

absl::StatusOr<int> PostgresStore::ReplaceSealed(const std::vector<Reseal>& reseals) {
  int replaced = 0;
  absl::Status status = InTransaction(pool_, "re-sealing", [&](PgConnection& db) -> absl::Status {
    replaced = 0;
    for (const Reseal& r : reseals) {
      const char* prefix = r.is_secret ? "secret" : "token";
      auto updated = db.Exec(
          absl::StrCat("UPDATE bindings SET ", prefix, "_key_id = $1, ", prefix,
                       "_sealed = $2 WHERE row_id = $3 AND ", prefix, "_key_id = $4 AND ",
                       prefix, "_sealed = $5"),
          PgParams()
              .Text(r.new_value.key_id)
              .Bytes(r.new_value.ciphertext)
              .Int(r.row_id)
              .Text(r.old_value.key_id)
              .Bytes(r.old_value.ciphertext),
          "re-sealing");
      if (!updated.ok()) return updated.status();
      if (updated->affected() == 0) continue;
      ++replaced;
      if (absl::Status s = NotifyBindingChanged(db, r.row_id); !s.ok()) return s;
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return replaced;
}

absl::StatusOr<std::map<std::string, int64_t>> PostgresStore::CountSealedByKey() {
  return ReadWith<std::map<std::string, int64_t>>(
      pool_, [&](PgConnection& db) -> absl::StatusOr<std::map<std::string, int64_t>> {
        auto rows = db.Exec(
            "SELECT key_id, count(*) FROM (SELECT secret_key_id AS key_id FROM bindings "
            "UNION ALL SELECT token_key_id FROM bindings) k GROUP BY key_id",
            "counting sealed values");
        if (!rows.ok()) return rows.status();
        std::map<std::string, int64_t> counts;
        for (int r = 0; r < rows->rows(); ++r) counts[rows->Text(r, 0)] = rows->Int(r, 1);
        return counts;
      });
}

absl::Status PostgresStore::SaveCheckRecord(int64_t row_id, const CheckRecord& record) {
  return InTransaction(pool_, "keeping a check result", [&](PgConnection& db) {
    absl::Status saved =
        db.Exec("INSERT INTO verify_results (binding_row_id, checked_at_us, result) "
                "VALUES ($1, $2, $3) ON CONFLICT (binding_row_id) DO UPDATE SET "
                "checked_at_us = excluded.checked_at_us, result = excluded.result",
                PgParams().Int(row_id).Int(Micros(record.checked_at)).Bytes(record.result),
                "keeping a check result")
            .status();
    if (!saved.ok()) return saved;
    // Every replica's binding cache keeps the record with the binding (GetChannel reads both).
    return NotifyBindingChanged(db, row_id);
  });
}

absl::StatusOr<CheckRecord> PostgresStore::LastCheckRecord(int64_t row_id) {
  return ReadWith<CheckRecord>(pool_, [&](PgConnection& db) -> absl::StatusOr<CheckRecord> {
    auto rows = db.Exec(
        "SELECT checked_at_us, result FROM verify_results WHERE binding_row_id = $1",
        PgParams().Int(row_id), "reading a check result");
    if (!rows.ok()) return rows.status();
    if (rows->rows() == 0) return absl::NotFoundError("no check result");
    return CheckRecord{rows->Micros(0, 0), rows->Bytes(0, 1)};
  });
}

absl::StatusOr<bool> PostgresStore::TakeLineTestCall(absl::string_view channel_id,
                                                     absl::Time at, absl::Duration window,
                                                     int limit) {
  bool taken = false;
  absl::Status status =
      InTransaction(pool_, "taking a LINE test call", [&](PgConnection& db) -> absl::Status {
        taken = false;
        // Replicas counting the same channel's calls take turns, so together they never
        // exceed the limit.
        auto locked = db.Exec("SELECT pg_advisory_xact_lock(hashtext('line_test_calls'), "
                              "hashtext($1))",
                              PgParams().Text(channel_id), "taking a LINE test call");
        if (!locked.ok()) return locked.status();
        auto counted = db.Exec(
            "WITH forgotten AS (DELETE FROM line_test_calls WHERE channel_id = $1 AND "
            "at_us <= $2) SELECT count(*) FROM line_test_calls WHERE channel_id = $1 AND "
            "at_us > $2",
            PgParams().Text(channel_id).Int(Micros(at - window)), "taking a LINE test call");
        if (!counted.ok()) return counted.status();
        if (counted->Int(0, 0) >= limit) return absl::OkStatus();
        auto inserted = db.Exec("INSERT INTO line_test_calls (channel_id, at_us) VALUES ($1, $2)",
                                PgParams().Text(channel_id).Int(Micros(at)),
                                "taking a LINE test call");
        if (!inserted.ok()) return inserted.status();
        taken = true;
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return taken;
}

void PostgresStore::AppendEvents(EventBatch batch, AppendDone done) {
  writer_.Append(std::move(batch), std::move(done));
}

absl::StatusOr<std::vector<StoredEvent>> PostgresStore::ReadEvents(const EventQuery& query) {
  if (query.limit <= 0) return absl::InvalidArgumentError("storage: limit must be positive");
  PgParams params;
  params.Text(query.team_id).Int(query.after_cursor).Int(query.limit);
  if (!query.channel_id.empty()) params.Text(query.channel_id);
  // Each row comes with the horizon: only events of transactions older than the oldest one
  // still running (anywhere in the cluster) may be handed out, so that a transaction that
  // commits later can only add events after the last one returned (pg_schema.cc).
  const std::string sql = absl::StrCat(
      "SELECT e.pos, b.binding_id, e.team_id, e.channel_id, e.webhook_event_id, e.type, "
      "e.timestamp_ms, e.mode, e.redelivery, e.source_type, e.source_user_id, "
      "e.source_group_id, e.source_room_id, e.raw_json, e.received_at_us, "
      "pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20, e.lifecycle, "
      "e.lifecycle_actor, e.lifecycle_detail, e.lifecycle_reasons, e.lifecycle_suspended "
      "FROM events e "
      "JOIN bindings b ON b.row_id = e.binding_row_id WHERE e.team_id = $1 AND e.pos > $2",
      query.channel_id.empty() ? "" : " AND e.channel_id = $4", " ORDER BY e.pos LIMIT $3");
  // Committed events beyond the horizon wait for the transactions that hold it back, which
  // are normally milliseconds from committing: a caller that just stored an event reads it
  // back. A transaction that runs longer delays them no further than `query.settle` (the
  // events come with a later read).
  const absl::Time give_up = absl::Now() + query.settle;
  absl::Duration pause = absl::Milliseconds(1);
  while (true) {
    bool held_back = false;
    auto events = ReadWith<std::vector<StoredEvent>>(
        pool_, [&](PgConnection& db) -> absl::StatusOr<std::vector<StoredEvent>> {
          auto rows = db.Exec(sql, params, "reading events");
          if (!rows.ok()) return rows.status();
          std::vector<StoredEvent> events;
          for (int r = 0; r < rows->rows(); ++r) {
            if (rows->Int(r, 0) >= rows->Int(r, 15)) {
              held_back = true;
              break;
            }
            StoredEvent out;
            out.cursor = rows->Int(r, 0);
            out.binding_id = rows->Text(r, 1);
            out.team_id = rows->Text(r, 2);
            out.channel_id = rows->Text(r, 3);
            if (!rows->IsNull(r, 4)) out.event.webhook_event_id = rows->Text(r, 4);
            out.event.type = rows->Text(r, 5);
            out.event.timestamp_ms = rows->Int(r, 6);
            out.event.mode = rows->Text(r, 7);
            out.event.redelivery = rows->Bool(r, 8);
            out.event.source_type = rows->Text(r, 9);
            out.event.source_user_id = rows->Text(r, 10);
            out.event.source_group_id = rows->Text(r, 11);
            out.event.source_room_id = rows->Text(r, 12);
            out.event.raw_json = rows->Text(r, 13);
            out.received_at = rows->Micros(r, 14);
            if (!rows->IsNull(r, 16)) {
              out.lifecycle = ReadLifecycle(rows->Text(r, 16), rows->Text(r, 17), rows->Text(r, 18),
                                            rows->Text(r, 19), rows->Bool(r, 20));
            }
            events.push_back(std::move(out));
          }
          return events;
        });
    if (!events.ok() || !held_back || absl::Now() + pause > give_up) {
      return events;
    }
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
}

void PostgresStore::RecordTrouble(int64_t binding_row_id, WebhookTrouble trouble, absl::Time at,
                                  std::function<void(absl::Status)> done) {
  writer_.RecordTrouble(binding_row_id, trouble, at, std::move(done));
}

absl::StatusOr<WebhookActivity> PostgresStore::ReadActivity(int64_t binding_row_id) {
  return ReadWith<WebhookActivity>(pool_, [&](PgConnection& db) -> absl::StatusOr<WebhookActivity> {
    auto rows = db.Exec(
        "SELECT last_signed_at_us, last_bad_signature_at_us, last_destination_mismatch_at_us "
        "FROM webhook_activity WHERE binding_row_id = $1",
        PgParams().Int(binding_row_id), "reading webhook activity");
    if (!rows.ok()) return rows.status();
    WebhookActivity activity;
    if (rows->rows() == 1) {
      activity.last_signed_request = rows->OptionalMicros(0, 0);
      activity.last_bad_signature = rows->OptionalMicros(0, 1);
      activity.last_destination_mismatch = rows->OptionalMicros(0, 2);
    }
    return activity;
  });
}

absl::StatusOr<int> PostgresStore::DeleteEventsReceivedBefore(absl::Time cutoff, int limit) {
  int deleted = 0;
  // Events are stored roughly in receive order, so the oldest by cursor are the oldest
  // received: looking only at the first `limit` of them keeps each delete short.
  absl::Status status =
      InTransaction(pool_, "deleting old events", [&](PgConnection& db) -> absl::Status {
        auto erased = db.Exec(
            "DELETE FROM events WHERE pos IN (SELECT pos FROM events ORDER BY pos LIMIT $1) "
            "AND received_at_us < $2",
            PgParams().Int(limit).Int(Micros(cutoff)), "deleting old events");
        if (!erased.ok()) return erased.status();
        deleted = static_cast<int>(erased->affected());
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return deleted;
}

absl::StatusOr<bool> PostgresStore::RunIfDue(absl::string_view name, absl::Duration period,
                                             absl::Time now, const std::function<void()>& job) {
  auto opened = PgConnection::Open(settings_);
  if (!opened.ok()) return opened.status();
  PgConnection& db = **opened;
  const std::string what = absl::StrCat("scheduling job ", name);
  auto locked = db.Exec("SELECT pg_try_advisory_lock(hashtext('channeld_job'), hashtext($1))",
                        PgParams().Text(name), what);
  if (!locked.ok()) return locked.status();
  if (!locked->Bool(0, 0)) return false;  // Another replica runs it now.
  // The lock ends with the connection, which closes on return.
  auto last = db.Exec("SELECT started_at_us FROM job_runs WHERE name = $1",
                      PgParams().Text(name), what);
  if (!last.ok()) return last.status();
  if (last->rows() == 1 && now - last->Micros(0, 0) < period) return false;
  job();
  auto recorded = db.Exec(
      "INSERT INTO job_runs (name, started_at_us) VALUES ($1, $2) ON CONFLICT (name) DO "
      "UPDATE SET started_at_us = excluded.started_at_us",
      PgParams().Text(name).Int(Micros(now)), what);
  if (!recorded.ok()) return recorded.status();
  return true;
}

absl::StatusOr<PushAdmission> PostgresStore::Admit(const PushRecord& push) {
  PushAdmission admission;
  absl::Status status =
      InTransaction(pool_, "admitting a push", [&](PgConnection& db) -> absl::Status {
        // The unique (binding, request id) constraint decides: a concurrent admission waits
        // for the other to commit, then inserts nothing and reads the winner's push.
        auto inserted = db.Exec(
            absl::StrCat(
                "INSERT INTO pushes (binding_row_id, request_id, retry_key, request_digest, "
                "recipient, messages_json, notification_disabled, state, attempts, "
                "accepted_at_us, next_attempt_at_us, lease_until_us, line_request_id, "
                "sent_messages_json, failure_reason, failure_message) VALUES ($1, $2, $3, $4, "
                "$5, $6, $7, 'pending', 1, $8, $9, $10, '', '', '', '') "
                "ON CONFLICT (binding_row_id, request_id) DO NOTHING RETURNING ",
                kPushColumns),
            PgParams()
                .Int(push.binding_row_id)
                .Text(push.request_id)
                .Text(push.retry_key)
                .Text(push.request_digest)
                .Text(push.to)
                .Text(push.messages_json)
                .Bool(push.notification_disabled)
                .Int(Micros(push.accepted_at))
                .Int(Micros(push.next_attempt_at))
                .Int(Micros(push.lease_until)),
            "admitting a push");
        if (!inserted.ok()) return inserted.status();
        admission.created = inserted->rows() == 1;
        if (admission.created) {
          admission.push = ReadPush(*inserted, 0);
          return absl::OkStatus();
        }
        auto existing = SelectPush(db, "binding_row_id = $1 AND request_id = $2",
                                   PgParams().Int(push.binding_row_id).Text(push.request_id));
        if (!existing.ok()) return existing.status();
        admission.push = *std::move(existing);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return admission;
}

absl::StatusOr<PushRecord> PostgresStore::Find(int64_t binding_row_id,
                                               absl::string_view request_id) {
  return ReadWith<PushRecord>(pool_, [&](PgConnection& db) {
    return SelectPush(db, "binding_row_id = $1 AND request_id = $2",
                      PgParams().Int(binding_row_id).Text(request_id));
  });
}

absl::StatusOr<std::vector<PushRecord>> PostgresStore::LeaseDue(absl::Time now,
                                                                absl::Time lease_until, int limit) {
  std::vector<PushRecord> leased;
  absl::Status status =
      InTransaction(pool_, "leasing due pushes", [&](PgConnection& db) -> absl::Status {
        leased.clear();
        // SKIP LOCKED passes over rows another replica is leasing right now instead of
        // waiting for them (and then finding them leased).
        auto rows = db.Exec(
            absl::StrCat("WITH leased AS (UPDATE pushes SET lease_until_us = $2, attempts = attempts + 1 "
                         "WHERE id IN "
                         "(SELECT id FROM pushes WHERE state = 'pending' AND "
                         "next_attempt_at_us <= $1 AND lease_until_us <= $1 "
                         "ORDER BY next_attempt_at_us, id LIMIT $3 FOR UPDATE SKIP LOCKED) "
                         "RETURNING ",
                         kPushColumns, ") SELECT * FROM leased ORDER BY next_attempt_at_us, id"),
            PgParams().Int(Micros(now)).Int(Micros(lease_until)).Int(limit), "leasing due pushes");
        if (!rows.ok()) return rows.status();
        for (int r = 0; r < rows->rows(); ++r) leased.push_back(ReadPush(*rows, r));
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return leased;
}

absl::StatusOr<PushRecord> PostgresStore::RecordAttempt(const PushAttempt& attempt) {
  PgParams params;
  params.Int(attempt.push_id)
      .Int(Micros(attempt.at))
      .Text(attempt.failure_reason)
      .Text(attempt.failure_message);
  std::string assignments;
  if (attempt.outcome == PushState::kPending) {
    params.Int(Micros(attempt.next_attempt_at));
    assignments = "next_attempt_at_us = $5, lease_until_us = $2";
  } else {
    params.Text(PushStateName(attempt.outcome))
        .Text(attempt.line_request_id)
        .Text(attempt.sent_messages_json);
    assignments =
        "state = $5, finished_at_us = $2, messages_json = '', line_request_id = $6, "
        "sent_messages_json = $7";
  }
  // Only a pending push changes: one that ended was finished by another sender first (a
  // concurrent update waits for it, then finds it no longer pending).
  const std::string sql = absl::StrCat(
      "UPDATE pushes SET failure_reason = $3, failure_message = $4, ",
      assignments, " WHERE id = $1 AND state = 'pending' RETURNING ", kPushColumns);
  absl::StatusOr<PushRecord> result = absl::NotFoundError("no such push");
  absl::Status status =
      InTransaction(pool_, "recording a push attempt", [&](PgConnection& db) -> absl::Status {
        auto updated = db.Exec(sql, params, "recording a push attempt");
        if (!updated.ok()) return updated.status();
        if (updated->rows() == 1) {
          result = ReadPush(*updated, 0);
        } else {
          result = SelectPush(db, "id = $1", PgParams().Int(attempt.push_id));
        }
        return result.status();
      });
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<int> PostgresStore::DeleteEndedBefore(absl::Time cutoff, int limit) {
  int deleted = 0;
  absl::Status status =
      InTransaction(pool_, "deleting ended pushes", [&](PgConnection& db) -> absl::Status {
        auto erased = db.Exec(
            "DELETE FROM pushes WHERE id IN (SELECT id FROM pushes WHERE state <> 'pending' "
            "AND finished_at_us < $1 ORDER BY finished_at_us, id LIMIT $2)",
            PgParams().Int(Micros(cutoff)).Int(limit), "deleting ended pushes");
        if (!erased.ok()) return erased.status();
        deleted = static_cast<int>(erased->affected());
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return deleted;
}

}  // namespace linechannel::storage
