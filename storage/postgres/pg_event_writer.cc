#include "storage/postgres/pg_event_writer.h"

#include <algorithm>
#include <map>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "storage/postgres/pg_array.h"
#include "storage/postgres/pg_change_listener.h"

namespace linechannel::storage {
namespace {

// Events per transaction are numbered in the low 20 bits of their cursor (pg_schema.cc).
constexpr int64_t kEventsPerTransaction = int64_t{1} << 20;

// One statement stores every batch of a group: the events (skipping webhookEventIds the
// OA already has under any of its bindings, whichever replica stored them), the bindings' last signed request, and
// a notification to every replica's listener. It answers, for the events stored, their place
// in the input (n), so each batch learns what it stored.
constexpr char kStoreBatches[] = R"sql(
WITH input AS (
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                       $6::bigint[], $7::text[], $8::boolean[], $9::text[], $10::text[],
                       $11::text[], $12::text[], $13::bigint[], $14::text[])
    WITH ORDINALITY AS i(binding_row_id, team_id, channel_id, webhook_event_id, type,
                         timestamp_ms, mode, redelivery, source_type, source_user_id,
                         source_group_id, source_room_id, received_at_us, raw_json, n)
),
stored AS (
  INSERT INTO events (pos, binding_row_id, team_id, channel_id, webhook_event_id, type,
                      timestamp_ms, mode, redelivery, source_type, source_user_id,
                      source_group_id, source_room_id, received_at_us, raw_json)
  SELECT (pg_current_xact_id()::text::bigint << 20) + n, binding_row_id, team_id, channel_id,
         webhook_event_id, type, timestamp_ms, mode, redelivery, source_type, source_user_id,
         source_group_id, source_room_id, received_at_us, raw_json
    FROM input ORDER BY n
  ON CONFLICT (channel_id, webhook_event_id) WHERE webhook_event_id IS NOT NULL DO NOTHING
  RETURNING pos
),
signed AS (
  INSERT INTO webhook_activity (binding_row_id, last_signed_at_us)
  SELECT * FROM unnest($15::bigint[], $16::bigint[])
  ON CONFLICT (binding_row_id) DO UPDATE SET last_signed_at_us =
    greatest(webhook_activity.last_signed_at_us, excluded.last_signed_at_us)
)
SELECT coalesce(string_agg((pos & 1048575)::text, ','), ''), coalesce(max(pos), 0)
  FROM stored
)sql";

// Applies a batch's botSuspended or botResumed to its binding, unless the binding is unbound or
// has a newer one, and stores a lifecycle event when the suspension changed ($4: its place in
// the transaction, after every webhook event). Answers the lifecycle event's cursor, if any.
constexpr char kApplyBotStatus[] = R"sql(
WITH old AS (
  SELECT row_id, team_id, channel_id, bot_suspended, attention_reasons FROM bindings
   WHERE row_id = $1 AND unbound_at_us IS NULL
     AND (bot_status_at_us IS NULL OR bot_status_at_us < $3)
     FOR UPDATE
),
changed AS (
  UPDATE bindings b SET bot_suspended = $2, bot_status_at_us = $3 FROM old
   WHERE b.row_id = old.row_id
)
INSERT INTO events (pos, binding_row_id, team_id, channel_id, webhook_event_id, type,
                    timestamp_ms, mode, redelivery, source_type, source_user_id,
                    source_group_id, source_room_id, received_at_us, raw_json, lifecycle,
                    lifecycle_actor, lifecycle_detail, lifecycle_reasons, lifecycle_suspended)
SELECT (pg_current_xact_id()::text::bigint << 20) + $4, row_id, team_id, channel_id, NULL, $5,
       $6::bigint / 1000, '', false, '', '', '', '', $6, '', $5, '', '', attention_reasons, $2
  FROM old WHERE bot_suspended <> $2
RETURNING pos
)sql";

// Tells every replica's listener about the stored events, in a transaction of its own: a
// NOTIFY inside the storing transaction would hold PostgreSQL's cluster-wide notify lock
// through that commit's WAL flush, so the replicas' commits could never overlap.

}  // namespace

struct PgEventWriter::Pending {
  struct Append {
    EventBatch batch;
    AppendDone done;
    absl::StatusOr<AppendResult> result;
  };
  struct Trouble {
    int64_t binding_row_id;
    WebhookTrouble trouble;
    absl::Time at;
    TroubleDone done;
  };
  std::variant<Append, Trouble> write;
};

PgEventWriter::PgEventWriter(Options options)
    : options_(std::move(options)), writer_([this] { Loop(); }) {}

PgEventWriter::~PgEventWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  writer_.join();
}

void PgEventWriter::Append(EventBatch batch, AppendDone done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(Pending{Pending::Append{std::move(batch), std::move(done),
                                               AppendResult()}});
      return;
    }
  }
  done(absl::UnavailableError("storage: the store is closing"));
}

void PgEventWriter::RecordTrouble(int64_t binding_row_id, WebhookTrouble trouble, absl::Time at,
                                  TroubleDone done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(Pending{Pending::Trouble{binding_row_id, trouble, at, std::move(done)}});
      return;
    }
  }
  done(absl::UnavailableError("storage: the store is closing"));
}

void PgEventWriter::Loop() {
  while (true) {
    std::deque<Pending> group;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](PgEventWriter* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(w->mu_) {
            return w->stopping_ || !w->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // Stopping, and every write is answered.
      // Every event of a transaction needs a number below kEventsPerTransaction; a body
      // holds at most a few thousand events, so a group stops well before that.
      int64_t events = 0;
      while (!queue_.empty() &&
             static_cast<int>(group.size()) < options_.max_batches_per_transaction &&
             events < kEventsPerTransaction / 2) {
        if (auto* append = std::get_if<Pending::Append>(&queue_.front().write)) {
          events += static_cast<int64_t>(append->batch.events.size());
        }
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    WriteGroup(group);
  }
}

absl::StatusOr<PgConnection*> PgEventWriter::Connection() {
  if (connection_ != nullptr && !connection_->broken()) return connection_.get();
  connection_.reset();
  auto opened = PgConnection::Open(options_.connection);
  if (!opened.ok()) return opened.status();
  connection_ = *std::move(opened);
  return connection_.get();
}

void PgEventWriter::WriteGroup(std::deque<Pending>& group) {
  // Troubles are best effort and rare: each is its own statement, after the batches.
  std::deque<Pending> appends;
  std::vector<Pending::Trouble> troubles;
  for (Pending& pending : group) {
    if (std::holds_alternative<Pending::Append>(pending.write)) {
      appends.push_back(std::move(pending));
    } else {
      troubles.push_back(std::move(std::get<Pending::Trouble>(pending.write)));
    }
  }
  if (!appends.empty()) {
    const absl::Time start = absl::Now();
    absl::Status status = StoreBatches(appends);
    // A deadlock with another replica storing the same events in another order undid the
    // whole statement: try again, as a new transaction.
    for (int retry = 0; retry < 2 && IsRetryableConflict(status); ++retry) {
      status = StoreBatches(appends);
    }
    if (options_.observer) {
      options_.observer(absl::Now() - start, static_cast<int>(appends.size()), status.ok());
    }
    for (Pending& pending : appends) {
      auto& append = std::get<Pending::Append>(pending.write);
      if (!status.ok()) append.result = status;
      append.done(std::move(append.result));
    }
  }
  for (Pending::Trouble& trouble : troubles) {
    const char* column = trouble.trouble == WebhookTrouble::kBadSignature
                             ? "last_bad_signature_at_us"
                             : "last_destination_mismatch_at_us";
    absl::Status status = absl::OkStatus();
    auto connection = Connection();
    if (!connection.ok()) {
      status = connection.status();
    } else {
      status = (*connection)
                   ->Exec(absl::StrCat("INSERT INTO webhook_activity (binding_row_id, ", column,
                                       ") VALUES ($1, $2) ON CONFLICT (binding_row_id) DO UPDATE "
                                       "SET ",
                                       column, " = greatest(webhook_activity.", column,
                                       ", excluded.", column, ")"),
                          PgParams().Int(trouble.binding_row_id).Int(absl::ToUnixMicros(trouble.at)),
                          "recording a webhook trouble")
                   .status();
    }
    trouble.done(status);
  }
}

absl::Status PgEventWriter::StoreBatches(std::deque<Pending>& group) {
  PgArray binding_row_id, team_id, channel_id, webhook_event_id, type, timestamp_ms, mode,
      redelivery, source_type, source_user_id, source_group_id, source_room_id, received_at_us,
      raw_json;
  std::map<int64_t, int64_t> last_signed;  // binding row id -> latest receive time (us)
  // The first input number (n, from 1) of each batch's events.
  std::vector<int64_t> first_n;
  int64_t n = 1;
  for (Pending& pending : group) {
    const EventBatch& b = std::get<Pending::Append>(pending.write).batch;
    first_n.push_back(n);
    const int64_t received_us = absl::ToUnixMicros(b.received_at);
    int64_t& signed_us = last_signed[b.binding_row_id];
    signed_us = std::max(signed_us, received_us);
    for (const NewEvent& e : b.events) {
      binding_row_id.Int(b.binding_row_id);
      team_id.Text(b.team_id);
      channel_id.Text(b.channel_id);
      if (e.webhook_event_id) {
        webhook_event_id.Text(*e.webhook_event_id);
      } else {
        webhook_event_id.Null();
      }
      type.Text(e.type);
      timestamp_ms.Int(e.timestamp_ms);
      mode.Text(e.mode);
      redelivery.Bool(e.redelivery);
      source_type.Text(e.source_type);
      source_user_id.Text(e.source_user_id);
      source_group_id.Text(e.source_group_id);
      source_room_id.Text(e.source_room_id);
      received_at_us.Int(received_us);
      raw_json.Text(e.raw_json);
      ++n;
    }
  }
  if (n > kEventsPerTransaction) {
    return absl::InvalidArgumentError("storage: too many events for one transaction");
  }
  PgArray signed_ids, signed_at;
  for (const auto& [row_id, at_us] : last_signed) {
    signed_ids.Int(row_id);
    signed_at.Int(at_us);
  }
  PgParams params;
  for (PgArray* array : {&binding_row_id, &team_id, &channel_id, &webhook_event_id, &type,
                         &timestamp_ms, &mode, &redelivery, &source_type, &source_user_id,
                         &source_group_id, &source_room_id, &received_at_us, &raw_json,
                         &signed_ids, &signed_at}) {
    params.Text(array->Take());
  }

  auto connection = Connection();
  if (!connection.ok()) return connection.status();
  PgConnection& db = **connection;
  if (options_.before_write) options_.before_write();
  // A bot status change (rare) is stored in the transaction of its events, so a reader never
  // sees one without the other.
  const bool bot_status = std::any_of(group.begin(), group.end(), [](const Pending& pending) {
    return std::get<Pending::Append>(pending.write).batch.bot_status.has_value();
  });
  if (bot_status) {
    if (auto begun = db.Exec("BEGIN", "storing webhook events"); !begun.ok()) {
      return begun.status();
    }
  }
  const auto failed = [&](absl::Status status) {
    if (db.in_transaction()) (void)db.Exec("ROLLBACK", "storing webhook events");
    return status;
  };
  auto answer = db.ExecPrepared("store_batches", kStoreBatches, params, "storing webhook events");
  if (!answer.ok()) return failed(answer.status());
  int64_t last_cursor = answer->Int(0, 1);
  std::vector<int> lifecycle_stored(group.size(), 0);
  if (bot_status) {
    for (size_t i = 0; i < group.size(); ++i) {
      const EventBatch& b = std::get<Pending::Append>(group[i].write).batch;
      if (!b.bot_status) continue;
      const bool suspended = b.bot_status->suspended;
      auto applied = db.Exec(kApplyBotStatus,
                             PgParams()
                                 .Int(b.binding_row_id)
                                 .Bool(suspended)
                                 .Int(absl::ToUnixMicros(b.bot_status->at))
                                 .Int(n++)
                                 .Text(LifecycleKindName(suspended ? LifecycleKind::kBotSuspended
                                                                   : LifecycleKind::kBotResumed))
                                 .Int(absl::ToUnixMicros(b.received_at)),
                             "storing a bot status change");
      if (!applied.ok()) return failed(applied.status());
      if (applied->rows() == 0) continue;
      lifecycle_stored[i] = 1;
      last_cursor = std::max(last_cursor, applied->Int(0, 0));
      // Every replica's cache drops the binding (its suspension changed) at commit.
      if (absl::Status notified = NotifyBindingChanged(db, b.binding_row_id); !notified.ok()) {
        return failed(notified);
      }
    }
    if (auto committed = db.Exec("COMMIT", "storing webhook events"); !committed.ok()) {
      return failed(committed.status());
    }
  }
  if (last_cursor > 0) {
    // Best effort: the events are stored; a listener that misses this finds them on its own
    // within a second (pg_change_listener.h).
    (void)NotifyEventsStored(db, last_cursor);
  }

  // Which input numbers were stored: count them per batch.
  std::vector<int64_t> stored_n;
  for (absl::string_view item : absl::StrSplit(answer->Text(0, 0), ',', absl::SkipEmpty())) {
    int64_t value = 0;
    if (absl::SimpleAtoi(item, &value)) stored_n.push_back(value);
  }
  std::sort(stored_n.begin(), stored_n.end());
  for (size_t i = 0; i < group.size(); ++i) {
    auto& append = std::get<Pending::Append>(group[i].write);
    const int64_t begin = first_n[i];
    const int64_t end = begin + static_cast<int64_t>(append.batch.events.size());
    const auto first = std::lower_bound(stored_n.begin(), stored_n.end(), begin);
    const auto last = std::lower_bound(stored_n.begin(), stored_n.end(), end);
    AppendResult result;
    result.stored = static_cast<int>(last - first);
    result.duplicates = static_cast<int>(append.batch.events.size()) - result.stored;
    result.lifecycle_stored = lifecycle_stored[i];
    result.last_cursor = last_cursor;
    append.result = result;
  }
  return absl::OkStatus();
}

}  // namespace linechannel::storage
