#ifndef LINECHANNEL_STORAGE_POSTGRES_POSTGRES_STORE_H_
#define LINECHANNEL_STORAGE_POSTGRES_POSTGRES_STORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/postgres/pg_change_listener.h"
#include "storage/postgres/pg_event_writer.h"
#include "storage/postgres/pg_pool.h"
#include "storage/store.h"

namespace linechannel::storage {

// The store on PostgreSQL, for several replicas on one database. The same guarantees as the
// SQLite store hold across replicas: the partial unique indexes decide "one team per OA",
// the unique (channel id, webhookEventId) index keeps each event once per OA whichever
// replica stored it, every commit is durable before it returns (synchronous_commit=on), and
// event cursors are safe under concurrent commits (pg_schema.cc). Webhook batches share transactions
// (PgEventWriter); other calls use a pool of connections. Every change to a binding, and every
// check record saved for one, notifies the other replicas (PgChangeListener), whose caches
// then drop it.
//
// Implements all of the store's roles (store.h). Thread-safe. It recovers by itself when
// PostgreSQL returns after an outage: broken connections are replaced on next use.
class PostgresStore : public BindingStore,
                      public SealedValueStore,
                      public CheckStore,
                      public EventStore,
                      public JobSchedule,
                      public PushOutbox {
 public:
  struct Options {
    // libpq connection URI (postgresql://...) or key/value string.
    std::string url;
    // How long a statement waits for a row lock, and a connection attempt for the server.
    absl::Duration lock_timeout = absl::Seconds(5);
    // Connections for calls other than webhook batches.
    int connections = 8;
    int max_batches_per_transaction = 256;
    // Told about every webhook transaction (for metrics).
    PgEventWriter::Observer commit_observer;
    // What this and other replicas change (see PgChangeListener); each may be unset.
    PgChangeListener::Callbacks on_change;
    // Test hook: runs on the webhook writer's thread before each transaction.
    std::function<void()> before_event_write;
  };

  // Connects, and brings the schema to the current version (pg_schema.h). UNAVAILABLE if
  // PostgreSQL cannot be reached; FAILED_PRECONDITION for a database that is not ours or is
  // from a newer build.
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(Options options);
  ~PostgresStore() override;

  // Whether the store can reach PostgreSQL now (its listening connection works).
  bool reachable() const;

  absl::StatusOr<Binding> InsertActive(const Binding& binding, const Change& change,
                                       Binding* conflict) override;
  absl::StatusOr<Binding> FindActive(absl::string_view team_id,
                                     absl::string_view channel_id) override;
  absl::StatusOr<Binding> FindActiveByWebhookKey(absl::string_view webhook_key) override;
  absl::StatusOr<BindingPage> ListTeam(absl::string_view team_id, bool include_unbound,
                                       int64_t after_row_id, int limit) override;
  absl::StatusOr<Binding> MarkUnbound(absl::string_view team_id, absl::string_view channel_id,
                                      const Change& change) override;
  absl::StatusOr<Binding> ReplaceCredentials(int64_t row_id, const CredentialUpdate& update,
                                             const Change& change) override;
  absl::StatusOr<std::vector<AuditRecord>> ListAudit(int64_t row_id) override;
  absl::StatusOr<AuditPage> ListTeamAudit(absl::string_view team_id, absl::string_view channel_id,
                                          int64_t before_id, int limit) override;
  absl::Status SetAttention(int64_t row_id, const std::vector<std::string>& reasons,
                            absl::Time checked_at) override;
  absl::StatusOr<Binding> RecordProof(int64_t row_id, const Proof& proof, const Change& change,
                                      Binding* conflict) override;
  absl::StatusOr<std::vector<Binding>> ListActive(int64_t after_row_id, int limit) override;

  absl::StatusOr<std::vector<SealedSample>> SampleSealedValues() override;
  absl::StatusOr<std::vector<SealedRow>> ListSealed(int64_t after_row_id, int limit) override;
  absl::StatusOr<int> ReplaceSealed(const std::vector<Reseal>& reseals) override;
  absl::StatusOr<std::map<std::string, int64_t>> CountSealedByKey() override;

  absl::Status SaveCheckRecord(int64_t row_id, const CheckRecord& record) override;
  absl::StatusOr<CheckRecord> LastCheckRecord(int64_t row_id) override;
  absl::StatusOr<bool> TakeLineTestCall(absl::string_view channel_id, absl::Time at,
                                        absl::Duration window, int limit) override;

  void AppendEvents(EventBatch batch, AppendDone done) override;
  // Hands out only events of transactions older than the oldest one still running, waiting
  // up to `query.settle` for those a running transaction holds back.
  absl::StatusOr<std::vector<StoredEvent>> ReadEvents(const EventQuery& query) override;
  void RecordTrouble(int64_t binding_row_id, WebhookTrouble trouble, absl::Time at,
                     std::function<void(absl::Status)> done) override;
  absl::StatusOr<WebhookActivity> ReadActivity(int64_t binding_row_id) override;
  absl::StatusOr<int> DeleteEventsReceivedBefore(absl::Time cutoff, int limit) override;

  // Replicas take turns under a session advisory lock, held on a connection of the job's own
  // for as long as it runs: if this process dies, PostgreSQL releases it.
  absl::StatusOr<bool> RunIfDue(absl::string_view name, absl::Duration period, absl::Time now,
                                const std::function<void()>& job) override;

  absl::StatusOr<PushAdmission> Admit(const PushRecord& push) override;
  absl::StatusOr<PushRecord> Find(int64_t binding_row_id, absl::string_view request_id) override;
  // Rows another replica is leasing at the same moment are skipped (FOR UPDATE SKIP LOCKED),
  // so replicas never lease one push together.
  absl::StatusOr<std::vector<PushRecord>> LeaseDue(absl::Time now, absl::Time lease_until,
                                                   int limit) override;
  absl::StatusOr<PushRecord> RecordAttempt(const PushAttempt& attempt) override;
  absl::StatusOr<int> DeleteEndedBefore(absl::Time cutoff, int limit) override;

 private:
  explicit PostgresStore(const Options& options);

  const PgConnection::Settings settings_;
  PgPool pool_;
  PgEventWriter writer_;
  PgChangeListener listener_;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_POSTGRES_POSTGRES_STORE_H_
