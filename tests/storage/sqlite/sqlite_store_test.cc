#include "storage/sqlite/sqlite_store.h"

#include "SQLiteCpp/Database.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite/schema.h"
#include "tests/storage/make_binding.h"
#include "tests/support/temp_dir.h"

namespace linechannel::storage {
namespace {

// What every store must do is in the store contract (tests/storage/store_contract.h); these
// are the SQLite store's own promises: the file, its schema and its locks.

using ::testing::HasSubstr;
using ::testing::SizeIs;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    SqliteStore::Options options;
    options.path = dir_.File("test.db");
    auto store = SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  absl::StatusOr<Binding> Insert(const Binding& b, Binding* conflict = nullptr) {
    return store_->InsertActive(b, {"tester", kT0, "bind"}, conflict);
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreTest, EverythingSurvivesReopening) {
  auto stored = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(stored.ok());
  Reopen();
  auto found = store_->FindActive("t1", "100");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->webhook_key, stored->webhook_key);
  EXPECT_THAT(*store_->ListAudit(stored->row_id), SizeIs(1));
  EXPECT_TRUE(store_->CheckIntegrity().ok());
}

TEST(SqliteSchemaTest, FreshFileGetsCurrentVersionAndReopeningChangesNothing) {
  testing::TempDir dir;
  const std::string path = dir.File("fresh.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    ASSERT_TRUE(MigrateSchema(db).ok());
    EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), CurrentSchemaVersion());
    ASSERT_TRUE(MigrateSchema(db).ok());
    EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), CurrentSchemaVersion());
  }
}

TEST(SqliteSchemaTest, RefusesAFileFromANewerBuild) {
  testing::TempDir dir;
  const std::string path = dir.File("newer.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    ASSERT_TRUE(MigrateSchema(db).ok());
    db.exec(absl::StrCat("PRAGMA user_version = ", CurrentSchemaVersion() + 1));
  }
  SqliteStore::Options options;
  options.path = path;
  auto store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status()));
  EXPECT_THAT(store.status().message(), HasSubstr("newer channeld"));
}

TEST(SqliteSchemaTest, RefusesAnotherProgramsDatabase) {
  testing::TempDir dir;
  const std::string path = dir.File("other.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE customers (id INTEGER)");
  }
  SqliteStore::Options options;
  options.path = path;
  auto store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
}

TEST(SqliteSchemaTest, RefusesAFileThatIsNotSqlite) {
  testing::TempDir dir;
  const std::string path = dir.File("garbage.db");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("this is not a database, just text that is long enough to have a header......", f);
    std::fclose(f);
  }
  SqliteStore::Options options;
  options.path = path;
  auto store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
}

TEST(SqliteStoreErrorsTest, AWriteLockHeldTooLongFailsWritesAsUnavailableAndChangesNothing) {
  testing::TempDir dir;
  const std::string path = dir.File("ro.db");
  SqliteStore::Options options;
  options.path = path;
  {
    auto store = SqliteStore::Open(options);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->InsertActive(MakeBinding("t1", "100"), {"t", kT0, ""}, nullptr).ok());
  }
  // Another process holding the write lock: our writes wait for the busy timeout, then fail.
  options.busy_timeout = absl::Milliseconds(50);
  auto store = SqliteStore::Open(options);
  ASSERT_TRUE(store.ok());
  SQLite::Database blocker(path, SQLite::OPEN_READWRITE);
  blocker.exec("BEGIN IMMEDIATE");
  auto result = (*store)->InsertActive(MakeBinding("t1", "200"), {"t", kT0, ""}, nullptr);
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  blocker.exec("ROLLBACK");
  EXPECT_TRUE(absl::IsNotFound((*store)->FindActive("t1", "200").status()));
  // The lock gone, the store works again by itself.
  EXPECT_TRUE((*store)->InsertActive(MakeBinding("t1", "200"), {"t", kT0, ""}, nullptr).ok());
}

}  // namespace
}  // namespace linechannel::storage
