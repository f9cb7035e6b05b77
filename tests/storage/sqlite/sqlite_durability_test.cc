// The SQLite store acknowledges a write only once it is on disk: its writer commits in WAL mode
// with synchronous=FULL, so every commit syncs the log before it returns. These tests read the
// writer's settings back from the store and count the syncs that reach the disk through a VFS
// shim (tests/support/sqlite_fault_injection.h), so a build that stops syncing fails here.

#include <atomic>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/storage/make_binding.h"
#include "tests/support/sqlite_fault_injection.h"
#include "tests/support/temp_dir.h"

namespace linechannel::storage {
namespace {

using testing::CountedSyncs;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

class SqliteDurabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Before the store opens, so that every connection of it goes through the counting VFS.
    testing::InstallFaultInjection();
    SqliteStore::Options options;
    options.path = dir_.File("durable.db");
    options.commit_observer = [this](absl::Duration, int, bool committed) {
      // Runs on the committer thread right after COMMIT returned, before any write of the
      // transaction is answered: the log must have been synced since the previous commit.
      if (!committed || !tracking_.load()) return;
      const int64_t wal_syncs = CountedSyncs().wal;
      absl::MutexLock lock(&mu_);
      ++commits_;
      if (wal_syncs <= wal_syncs_at_last_commit_) ++unsynced_commits_;
      wal_syncs_at_last_commit_ = wal_syncs;
    };
    auto store = SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // From now on every committed transaction must have synced the log.
  void StartTracking() {
    {
      absl::MutexLock lock(&mu_);
      wal_syncs_at_last_commit_ = CountedSyncs().wal;
    }
    tracking_.store(true);
  }

  int64_t commits() {
    absl::MutexLock lock(&mu_);
    return commits_;
  }
  int64_t unsynced_commits() {
    absl::MutexLock lock(&mu_);
    return unsynced_commits_;
  }

  // Runs `write` (one acknowledged store call) and expects it to have committed once, with at
  // least one sync of the log before it returned.
  void ExpectOneSyncedCommit(const std::string& what, const std::function<absl::Status()>& write) {
    SCOPED_TRACE(what);
    const int64_t commits_before = commits();
    const int64_t wal_syncs_before = CountedSyncs().wal;
    const absl::Status status = write();
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_EQ(commits(), commits_before + 1);
    EXPECT_GT(CountedSyncs().wal, wal_syncs_before) << "acknowledged without syncing the log";
  }

  absl::Status Append(const Binding& b, const std::string& event_id) {
    std::promise<absl::StatusOr<AppendResult>> done;
    store_->AppendEvents({b.row_id, b.team_id, b.channel_id, kT0, {Event(event_id)}},
                         [&](absl::StatusOr<AppendResult> r) { done.set_value(std::move(r)); });
    return done.get_future().get().status();
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
  std::atomic<bool> tracking_{false};
  absl::Mutex mu_;
  int64_t commits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t unsynced_commits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t wal_syncs_at_last_commit_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_F(SqliteDurabilityTest, TheWriterCommitsInWalModeWithSynchronousFull) {
  absl::StatusOr<SqliteStore::WriterDurability> durability = store_->ReadWriterDurability();
  ASSERT_TRUE(durability.ok()) << durability.status();
  EXPECT_EQ(durability->journal_mode, "wal");
  EXPECT_EQ(durability->synchronous, 2) << "PRAGMA synchronous is not FULL";
}

TEST_F(SqliteDurabilityTest, EveryAcknowledgedWriteSyncedTheLogBeforeItsAnswer) {
  StartTracking();
  const int64_t database_syncs_before = CountedSyncs().database;
  absl::StatusOr<Binding> bound;
  ExpectOneSyncedCommit("bind", [&] {
    bound = store_->InsertActive(MakeBinding("t1", "100"), {"tester", kT0, "bind"}, nullptr);
    return bound.status();
  });
  ASSERT_TRUE(bound.ok());
  ExpectOneSyncedCommit("webhook events", [&] { return Append(*bound, "ev1"); });
  ExpectOneSyncedCommit("credential update", [&] {
    CredentialUpdate update;
    update.access_token = SealedValue{"k1", "new-token"};
    return store_->ReplaceCredentials(bound->row_id, update, {"op", kT0, "token"}).status();
  });
  absl::StatusOr<PushAdmission> admitted;
  ExpectOneSyncedCommit("push admission", [&] {
    admitted = store_->Admit(MakePush(bound->row_id, "r1"));
    return admitted.status();
  });
  ASSERT_TRUE(admitted.ok());
  ExpectOneSyncedCommit("push attempt", [&] {
    PushAttempt attempt;
    attempt.push_id = admitted->push.id;
    attempt.outcome = PushState::kSent;
    attempt.at = kT0;
    attempt.line_request_id = "line-r1";
    return store_->RecordAttempt(attempt).status();
  });
  ExpectOneSyncedCommit("unbind", [&] {
    return store_->MarkUnbound("t1", "100", {"op", kT0, ""}).status();
  });

  EXPECT_EQ(commits(), 6);
  EXPECT_EQ(unsynced_commits(), 0);
  // No checkpoint ran meanwhile (it would sync the log and the database file too), so the log
  // syncs counted above were the commits' own.
  EXPECT_EQ(store_->checkpoints(), 0);
  EXPECT_EQ(CountedSyncs().database, database_syncs_before);
}

TEST_F(SqliteDurabilityTest, GroupCommitsShareASyncButNoneSkipsIt) {
  absl::StatusOr<Binding> bound =
      store_->InsertActive(MakeBinding("t1", "100"), {"tester", kT0, "bind"}, nullptr);
  ASSERT_TRUE(bound.ok()) << bound.status();
  StartTracking();
  const int64_t wal_syncs_before = CountedSyncs().wal;
  constexpr int kThreads = 4;
  constexpr int kBatchesPerThread = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kBatchesPerThread; ++i) {
        if (!Append(*bound, absl::StrCat("ev-", t, "-", i)).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GE(commits(), 1);
  EXPECT_LE(commits(), kThreads * kBatchesPerThread);
  EXPECT_EQ(unsynced_commits(), 0);
  EXPECT_GE(CountedSyncs().wal - wal_syncs_before, commits());
  EXPECT_EQ(store_->checkpoints(), 0);
}

// SQLite syncs the database file after a checkpoint only if it copied the whole log. A round
// of the checkpointer's thread that cannot (here a reader still reads older frames; under load,
// commits land while it copies) syncs what it copied itself, so that the copy of the rest, which
// the commit thread makes and every queued write waits for, does not sync all of it.
TEST(CheckpointerSyncTest, ARoundThatCannotCopyTheWholeLogSyncsWhatItCopied) {
  testing::InstallFaultInjection();
  testing::TempDir dir;
  SqliteStore::Options options;
  options.path = dir.File("rounds.db");
  // Well above the binding's commit (15 frames), so that no round runs before the reader.
  options.checkpoint_wal_pages = 64;
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<Binding> bound =
      (*store)->InsertActive(MakeBinding("t1", "100"), {"tester", kT0, "bind"}, nullptr);
  ASSERT_TRUE(bound.ok()) << bound.status();
  // The reader keeps the frames up to the binding's commit the last that may be copied.
  SQLite::Database reader(options.path, SQLite::OPEN_READONLY);
  reader.exec("BEGIN");
  EXPECT_EQ(reader.execAndGet("SELECT count(*) FROM bindings").getInt(), 1);
  ASSERT_EQ((*store)->checkpoints(), 0);
  const int64_t database_syncs_before = CountedSyncs().database;

  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (int batch = 0; (*store)->checkpoints() == 0 && absl::Now() < deadline; ++batch) {
    std::vector<NewEvent> events;
    for (int i = 0; i < 10; ++i) {
      NewEvent e = Event(absl::StrCat("ev-", batch, "-", i));
      e.raw_json += std::string(2000, ' ');
      events.push_back(std::move(e));
    }
    std::promise<absl::StatusOr<AppendResult>> done;
    (*store)->AppendEvents({bound->row_id, "t1", "100", kT0, std::move(events)},
                           [&](absl::StatusOr<AppendResult> r) { done.set_value(std::move(r)); });
    ASSERT_TRUE(done.get_future().get().ok());
  }
  ASSERT_GT((*store)->checkpoints(), 0);
  EXPECT_GT(CountedSyncs().database, database_syncs_before)
      << "what the round copied was left to the commit thread to sync";

  reader.exec("COMMIT");
  EXPECT_TRUE((*store)->CheckIntegrity().ok());
}

// The check above can fail: a connection without synchronous=FULL commits without a log sync,
// and the counter sees the difference.
TEST(SyncCounterTest, TellsACommitThatSyncsTheLogFromOneThatDoesNot) {
  testing::InstallFaultInjection();
  testing::TempDir dir;
  SQLite::Database db(dir.File("plain.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE t (x INTEGER)");
  db.exec("PRAGMA synchronous = NORMAL");
  const int64_t before_normal = CountedSyncs().wal;
  db.exec("INSERT INTO t VALUES (1)");
  EXPECT_EQ(CountedSyncs().wal, before_normal);
  db.exec("PRAGMA synchronous = FULL");
  const int64_t before_full = CountedSyncs().wal;
  db.exec("INSERT INTO t VALUES (2)");
  EXPECT_GT(CountedSyncs().wal, before_full);
}

}  // namespace
}  // namespace linechannel::storage
