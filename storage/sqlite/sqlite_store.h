#ifndef LINECHANNEL_STORAGE_SQLITE_SQLITE_STORE_H_
#define LINECHANNEL_STORAGE_SQLITE_SQLITE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "SQLiteCpp/Database.h"
#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/sqlite/checkpointer.h"
#include "storage/sqlite/commit_queue.h"
#include "storage/sqlite/connection_pool.h"
#include "storage/sqlite/event_cursors.h"
#include "storage/sqlite/signed_requests.h"
#include "storage/store.h"

namespace linechannel::storage {

class EventIndex;

// The embedded store: one SQLite file in WAL mode. Writes go through a CommitQueue (one
// connection, group commit, synchronous=FULL); reads use a pool of read-only connections.
// Implements all of the store's roles (store.h): pass it to AllRolesOf. Thread-safe.
class SqliteStore : public BindingStore,
                    public SealedValueStore,
                    public CheckStore,
                    public EventStore,
                    public JobSchedule,
                    public PushOutbox {
 public:
  struct Options {
    // The database file; created (with its schema) if absent.
    std::string path;
    absl::Duration busy_timeout = absl::Seconds(5);
    int read_connections = 4;
    int max_writes_per_transaction = 256;
    // How long the commit thread may hold a commit back for more writes, when few are queued
    // and it has had time to spare (CommitQueue); zero commits what is queued at once.
    absl::Duration commit_linger = absl::ZeroDuration();
    // The page size of a new database file (an existing one keeps its own); 0: SQLite's 4096.
    int page_size = 0;
    // The log is copied back into the database file, on a thread of its own, once a commit
    // leaves this many pages in it; 0 leaves it to SQLite's automatic checkpoint, inside the
    // commit that crosses Checkpointer::kSqliteDefaultPages.
    int checkpoint_wal_pages = Checkpointer::kSqliteDefaultPages;
    // How many new events' keys are added to the events' by-team and once-per-OA tables in
    // one write (EventIndex): larger batches write fewer pages per event, and a reader that
    // is behind reads past up to about this many rows that are not in those tables yet.
    int event_index_batch = 4096;
    // In how many writes (each in a transaction of its own, with the writes queued then) a
    // batch's keys are added: one write would put a page per team into one commit, which every
    // request queued behind it waits for.
    int event_index_pieces = 16;
    // Told about every transaction (for metrics).
    CommitQueue::Observer commit_observer;
    // Told, after every transaction, how many pages (frames) it wrote to the write-ahead log:
    // the store's write amplification (for metrics).
    std::function<void(int64_t frames)> wal_frames_observer;
    // Told, after the commit, the cursor of each lifecycle event a binding change stored
    // (webhook batches tell their own caller, AppendResult), so readers can be woken.
    std::function<void(int64_t cursor)> events_committed;
  };

  // Opens or creates the file and migrates it to the current schema. FAILED_PRECONDITION for a
  // file that is not ours or is from a newer build; UNAVAILABLE if it cannot be opened.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const Options& options);
  ~SqliteStore() override;

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
  absl::StatusOr<std::vector<StoredEvent>> ReadEvents(const EventQuery& query) override;
  void RecordTrouble(int64_t binding_row_id, WebhookTrouble trouble, absl::Time at,
                     std::function<void(absl::Status)> done) override;
  absl::StatusOr<WebhookActivity> ReadActivity(int64_t binding_row_id) override;
  absl::StatusOr<int> DeleteEventsReceivedBefore(absl::Time cutoff, int limit) override;

  // One process has the file (the data directory's lock), so jobs take turns in memory.
  absl::StatusOr<bool> RunIfDue(absl::string_view name, absl::Duration period, absl::Time now,
                                const std::function<void()>& job) override;

  absl::StatusOr<PushAdmission> Admit(const PushRecord& push) override;
  absl::StatusOr<PushRecord> Find(int64_t binding_row_id, absl::string_view request_id) override;
  absl::StatusOr<std::vector<PushRecord>> LeaseDue(absl::Time now, absl::Time lease_until,
                                                   int limit) override;
  absl::StatusOr<PushRecord> RecordAttempt(const PushAttempt& attempt) override;
  absl::StatusOr<int> DeleteEndedBefore(absl::Time cutoff, int limit) override;

  // Background checkpoints run so far (0 when SQLite checkpoints by itself).
  int64_t checkpoints() const;

  // How the writer connection makes commits durable, as SQLite itself reports it (not as we
  // asked): what an acknowledged write rests on.
  struct WriterDurability {
    // "wal".
    std::string journal_mode;
    // PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL (each commit syncs the log), 3 EXTRA.
    int synchronous = 0;
  };
  absl::StatusOr<WriterDurability> ReadWriterDurability();

  // Runs SQLite's integrity check; OK if it reports "ok", DATA_LOSS with its findings if not.
  absl::Status CheckIntegrity();

 private:
  SqliteStore(std::unique_ptr<SQLite::Database> writer, std::unique_ptr<ConnectionPool> readers,
              std::unique_ptr<SQLite::Database> checkpoint_connection,
              std::unique_ptr<EventIndex> event_index, EventCursors event_cursors,
              const Options& options);
  // Queues the next piece of the catch-up that adds the newest events' keys to the event
  // index tables (EventIndex).
  void QueueEventIndexPiece();
  // Upserts webhook_activity.last_signed_at_us; on the commit thread, inside a write.
  void WriteSignedRequests(const std::vector<SignedRequests::Write>& writes);

  // Stores the batch's bot status change, if newer than the binding's, with a lifecycle event
  // if the suspension changed. Runs in the batch's transaction.
  void ApplyBotStatus(SQLite::Database& db, const EventBatch& batch, AppendResult& result);
  void EventsCommitted(int64_t cursor) const;

  // Statements of the webhook hot path, prepared once on the writer connection. Used only by
  // writes, which all run on the commit queue's one thread. Each use begins with tryReset():
  // a statement left failed by an earlier write would make reset() throw that write's error
  // into the next one.
  struct WriterStatements;

  const std::function<void(int64_t cursor)> events_committed_;
  std::unique_ptr<SQLite::Database> writer_;
  std::unique_ptr<WriterStatements> statements_;
  std::unique_ptr<ConnectionPool> readers_;
  // Used only by writes and their settled callbacks, on the commit queue's committer thread.
  std::unique_ptr<EventIndex> event_index_;
  // Used only by writes.
  EventCursors event_cursors_;
  // Destroyed after the commit queue has finished its last writes.
  std::unique_ptr<Checkpointer> checkpointer_;
  // Each binding's newest signed webhook request, written to webhook_activity in batches.
  SignedRequests signed_requests_;
  absl::Mutex jobs_mu_;
  std::set<std::string, std::less<>> running_jobs_ ABSL_GUARDED_BY(jobs_mu_);
  CommitQueue commits_;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_SQLITE_STORE_H_
