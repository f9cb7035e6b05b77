// The write-ahead log's writes gathered into few (storage/sqlite/gathered_log_writes.h), through
// connections opened as the store opens them, over the test VFS that injects faults: what a
// commit wrote must be read back whole by its own and other connections, at once and after a
// reopen, whatever the transaction did in between, and a write that fails must fail its commit.

#include "storage/sqlite/gathered_log_writes.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <string>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "SQLiteCpp/Transaction.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "storage/sqlite/connection_pool.h"
#include "tests/support/sqlite_fault_injection.h"
#include "tests/support/temp_dir.h"

namespace linechannel::storage {
namespace {

// The value row `k` holds after `edits` updates: long enough that rows fill many pages.
std::string Value(int k, int edits = 0) {
  return absl::StrCat(std::string(700 + k % 300, static_cast<char>('a' + k % 26)), "#", k, "/",
                      edits);
}

class GatheredLogWritesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The store's connections go through whatever VFS is the default: here the faulting one.
    testing::InstallFaultInjection();
    writer_ = Open(/*read_only=*/false);
    writer_->exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  }
  void TearDown() override { testing::SetStorageFault(testing::StorageFault::kNone); }

  std::unique_ptr<SQLite::Database> Open(bool read_only, const std::string& path = "") {
    ConnectionSettings settings;
    settings.path = path.empty() ? dir_.File("gathered.db") : path;
    settings.page_size = 4096;
    auto db = OpenConnection(settings, read_only);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  }

  static void Insert(SQLite::Database& db, int from, int to) {
    SQLite::Statement insert(db, "INSERT INTO t (k, v) VALUES (?, ?)");
    for (int k = from; k < to; ++k) {
      insert.bind(1, k);
      insert.bind(2, Value(k));
      insert.exec();
      insert.reset();
    }
  }

  // Every row of `db`, in order, must be 0..count-1 with the value of `edits` updates.
  static void ExpectRows(SQLite::Database& db, int count, int edits = 0) {
    SQLite::Statement rows(db, "SELECT k, v FROM t ORDER BY k");
    int k = 0;
    while (rows.executeStep()) {
      ASSERT_EQ(rows.getColumn(0).getInt(), k);
      ASSERT_EQ(rows.getColumn(1).getString(), Value(k, edits)) << "row " << k;
      ++k;
    }
    EXPECT_EQ(k, count);
  }

  // In the writer's open transaction, with a cache of a few pages: rows (keys from 10,000)
  // until one spills frames to the log that still wait in memory when its statement ends.
  // False if none did.
  bool SpillUntilARunWaits() {
    for (int k = 10'000; k < 20'000; ++k) {
      const LogWriteCounts before = GatheredLogWriteCounts();
      Insert(*writer_, k, k + 1);
      const LogWriteCounts after = GatheredLogWriteCounts();
      if (after.asked_by_sqlite > before.asked_by_sqlite && after.made == before.made) return true;
    }
    return false;
  }

  static std::string IntegrityCheck(SQLite::Database& db) {
    return db.execAndGet("PRAGMA integrity_check").getString();
  }

  // The file must be sound and hold rows 0..count-1 as its database file and log are now (a
  // copy of both, opened as after a crash: SQLite reads the log back by its frames' checksums,
  // and stops at the first frame that is missing or wrong), and again once the writer, the last
  // connection still open, has closed it (which copies the log into the database file).
  void ExpectWholeInItsFiles(int count) {
    const std::string copy = dir_.File("copy.db");
    std::filesystem::copy_file(dir_.File("gathered.db"), copy);
    std::filesystem::copy_file(dir_.File("gathered.db-wal"), copy + "-wal");
    {
      SCOPED_TRACE("a copy of the files as they are");
      auto recovered = Open(/*read_only=*/false, copy);
      EXPECT_EQ(IntegrityCheck(*recovered), "ok");
      ExpectRows(*recovered, count);
    }
    SCOPED_TRACE("closed and opened again");
    writer_.reset();
    auto reopened = Open(/*read_only=*/false);
    EXPECT_EQ(IntegrityCheck(*reopened), "ok");
    ExpectRows(*reopened, count);
  }

  testing::TempDir dir_;
  std::unique_ptr<SQLite::Database> writer_;
};

TEST_F(GatheredLogWritesTest, ACommitsFramesGoOutInAFewWritesAndAreReadBackWhole) {
  const LogWriteCounts before = GatheredLogWriteCounts();
  {
    SQLite::Transaction transaction(*writer_);
    Insert(*writer_, 0, 600);
    transaction.commit();
  }
  const LogWriteCounts after = GatheredLogWriteCounts();
  const int64_t asked = after.asked_by_sqlite - before.asked_by_sqlite;
  const int64_t made = after.made - before.made;
  // Two writes a frame, ~150 frames: about 5 runs of 120 KiB.
  EXPECT_GE(asked, 250);
  EXPECT_LE(made, asked / 20) << "asked " << asked;

  auto reader = Open(/*read_only=*/true);
  ExpectRows(*reader, 600);
  ExpectRows(*writer_, 600);
  reader.reset();
  ExpectWholeInItsFiles(600);
}

TEST_F(GatheredLogWritesTest, AConnectionInTheExclusiveLockingModeWritesItsLogThrough) {
  // SQLite takes the log's locks without the VFS in this mode: no run may wait for them.
  writer_->exec("PRAGMA locking_mode = EXCLUSIVE");
  const LogWriteCounts before = GatheredLogWriteCounts();
  {
    SQLite::Transaction transaction(*writer_);
    Insert(*writer_, 0, 600);
    transaction.commit();
  }
  const LogWriteCounts after = GatheredLogWriteCounts();
  EXPECT_EQ(after.asked_by_sqlite, before.asked_by_sqlite) << "log writes were gathered";
  ExpectWholeInItsFiles(600);
}

TEST_F(GatheredLogWritesTest, AnotherConnectionSeesEachCommitAtOnceSyncedOrNot) {
  auto reader = Open(/*read_only=*/true);
  int rows = 0;
  // Without a sync at each commit the frames go out at the barrier before it is published.
  for (const char* synchronous : {"FULL", "OFF"}) {
    SCOPED_TRACE(synchronous);
    writer_->exec(absl::StrCat("PRAGMA synchronous = ", synchronous));
    for (int i = 0; i < 100; ++i, ++rows) {
      Insert(*writer_, rows, rows + 1);
      SQLite::Statement newest(
          *reader, "SELECT count(*), max(k), v FROM t WHERE k = (SELECT max(k) FROM t)");
      ASSERT_TRUE(newest.executeStep());
      ASSERT_EQ(newest.getColumn(0).getInt(), 1);
      ASSERT_EQ(newest.getColumn(1).getInt(), rows);
      ASSERT_EQ(newest.getColumn(2).getString(), Value(rows));
    }
  }
  EXPECT_EQ(reader->execAndGet("SELECT count(*) FROM t").getInt(), rows);
  EXPECT_EQ(IntegrityCheck(*reader), "ok");
}

TEST_F(GatheredLogWritesTest, EachCommitsFramesAreInTheLogBeforeItsSyncAndItsPublication) {
  // The test VFS below this one counts what reached the log when it was synced and when the
  // commit was about to be published; nothing SQLite asked to write may be missing then.
  const int64_t asked_before = GatheredLogWriteCounts().bytes_asked_by_sqlite;
  const int64_t written_before = testing::CountedLogBytes().written;
  int rows = 0;
  for (const char* synchronous : {"FULL", "OFF"}) {
    SCOPED_TRACE(synchronous);
    writer_->exec(absl::StrCat("PRAGMA synchronous = ", synchronous));
    for (int i = 0; i < 30; ++i, rows += 7) {
      SQLite::Transaction transaction(*writer_);
      Insert(*writer_, rows, rows + 7);
      transaction.commit();
      const int64_t asked = GatheredLogWriteCounts().bytes_asked_by_sqlite - asked_before;
      const testing::LogBytes written = testing::CountedLogBytes();
      ASSERT_EQ(written.written_at_last_barrier - written_before, asked);
      if (std::string(synchronous) == "FULL") {
        ASSERT_EQ(written.written_at_last_sync - written_before, asked);
      }
    }
  }
  ExpectWholeInItsFiles(rows);
}

TEST_F(GatheredLogWritesTest, ATransactionThatSpillsItsPagesReadsThemBackAndCommitsThemWhole) {
  // A cache of a few pages: the transaction writes frames to the log long before it commits,
  // then rewrites some of them in place and reads them back.
  writer_->exec("PRAGMA cache_size = 8");
  const LogWriteCounts before = GatheredLogWriteCounts();
  {
    SQLite::Transaction transaction(*writer_);
    Insert(*writer_, 0, 2000);
    ASSERT_GT(GatheredLogWriteCounts().asked_by_sqlite, before.asked_by_sqlite)
        << "the transaction did not spill: the test proves nothing";
    SQLite::Statement edit(*writer_, "UPDATE t SET v = ? WHERE k = ?");
    for (int k = 0; k < 2000; ++k) {
      edit.bind(1, Value(k, 1));
      edit.bind(2, k);
      edit.exec();
      edit.reset();
    }
    ExpectRows(*writer_, 2000, 1);
    transaction.commit();
  }
  auto reader = Open(/*read_only=*/true);
  ExpectRows(*reader, 2000, 1);
  EXPECT_EQ(IntegrityCheck(*reader), "ok");
}

TEST_F(GatheredLogWritesTest, ARolledBackSpillLeavesTheLogToTheNextWriter) {
  Insert(*writer_, 0, 100);
  writer_->exec("PRAGMA cache_size = 8");
  {
    SQLite::Transaction transaction(*writer_);
    Insert(*writer_, 100, 2000);
    // Destroyed without a commit: rolled back, its spilled frames never published.
  }
  auto other_writer = Open(/*read_only=*/false);
  Insert(*other_writer, 100, 300);
  ExpectRows(*writer_, 300);
  Insert(*writer_, 300, 400);
  ExpectRows(*other_writer, 400);
  other_writer.reset();
  ExpectWholeInItsFiles(400);
}

TEST_F(GatheredLogWritesTest, ARolledBackRunStillWaitingGoesOutBeforeAnotherWriterTakesTheLog) {
  Insert(*writer_, 0, 100);
  auto other_writer = Open(/*read_only=*/false);
  // Every page in the database file, the log to start over: the rollback then reads nothing
  // back from the log, and the next writer's frames go where the spilled ones were to go.
  writer_->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  writer_->exec("PRAGMA cache_size = 8");
  {
    SQLite::Transaction transaction(*writer_);
    // Spilled frames waiting where the next writer's frames will go: if they went out any
    // later they would overwrite its commit.
    ASSERT_TRUE(SpillUntilARunWaits()) << "no spilled frames waited: the test proves nothing";
  }
  {
    // One commit, whose frames are each the newest of their page.
    SQLite::Transaction transaction(*other_writer);
    Insert(*other_writer, 100, 200);
    transaction.commit();
  }
  ExpectRows(*writer_, 200);
  Insert(*writer_, 200, 220);
  ExpectRows(*other_writer, 220);
  EXPECT_EQ(IntegrityCheck(*writer_), "ok");
  other_writer.reset();
  ExpectWholeInItsFiles(220);
}

TEST_F(GatheredLogWritesTest, ARunThatFailedToGoOutFailsTheCommitAfterItsStatementRolledBack) {
  Insert(*writer_, 0, 100);
  writer_->exec("PRAGMA cache_size = 8");
  writer_->exec("BEGIN");
  // A first write whose spilled frames wait in memory when it ends.
  ASSERT_TRUE(SpillUntilARunWaits()) << "no spilled frames waited: the test proves nothing";
  // A second write reads pages the cache no longer holds: sending the run out first fails, so
  // does the statement, which SQLite rolls back alone (it has a statement journal), and the
  // writer rolls back to its savepoint, as the commit queue does.
  writer_->exec("SAVEPOINT second");
  testing::SetStorageFault(testing::StorageFault::kDiskFull);
  EXPECT_THROW(writer_->exec("INSERT INTO t (k, v) SELECT k + 50000, v FROM t WHERE k < 100"),
               SQLite::Exception);
  testing::SetStorageFault(testing::StorageFault::kNone);
  ASSERT_EQ(sqlite3_get_autocommit(writer_->getHandle()), 0)
      << "SQLite rolled the whole transaction back: the test proves nothing";
  writer_->exec("ROLLBACK TO second");
  writer_->exec("RELEASE second");
  // The first write's frames never reached the log: its commit must fail, not publish them.
  try {
    writer_->exec("COMMIT");
    ADD_FAILURE() << "a commit whose spilled frames could not be written succeeded";
  } catch (const SQLite::Exception& e) {
    EXPECT_EQ(e.getErrorCode() & 0xff, SQLITE_FULL) << e.what();
  }
  if (sqlite3_get_autocommit(writer_->getHandle()) == 0) writer_->exec("ROLLBACK");
  // The transaction's end forgot the failure.
  Insert(*writer_, 100, 150);
  ExpectWholeInItsFiles(150);
}

TEST_F(GatheredLogWritesTest, AWriteThatFailsWhenItGoesOutFailsItsCommitAndLeavesNothing) {
  Insert(*writer_, 0, 50);
  for (const auto fault : {testing::StorageFault::kDiskFull, testing::StorageFault::kIoError}) {
    {
      SQLite::Transaction transaction(*writer_);
      Insert(*writer_, 50, 200);
      testing::SetStorageFault(fault);
      // The frames wait in memory until the commit syncs: the commit is what fails.
      try {
        transaction.commit();
        ADD_FAILURE() << "a commit whose frames could not be written succeeded";
      } catch (const SQLite::Exception& e) {
        const int primary = e.getErrorCode() & 0xff;
        EXPECT_TRUE(primary == SQLITE_FULL || primary == SQLITE_IOERR) << e.what();
      }
      testing::SetStorageFault(testing::StorageFault::kNone);
      if (sqlite3_get_autocommit(writer_->getHandle()) == 0) writer_->exec("ROLLBACK");
    }
    auto reader = Open(/*read_only=*/true);
    ExpectRows(*reader, 50);
  }
  Insert(*writer_, 50, 120);
  ExpectWholeInItsFiles(120);
}

}  // namespace
}  // namespace linechannel::storage
