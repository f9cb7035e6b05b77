// The PostgreSQL store acknowledges a write only once its commit is on disk: every connection
// it opens (PgConnection::Open, which its pool, webhook writer and change listener all use)
// runs with synchronous_commit=on whatever the server's or database's default, and the tests'
// private cluster keeps fsync on, so what these tests prove about durability holds.

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "storage/postgres/pg_connection.h"
#include "tests/storage/make_binding.h"
#include "tests/storage/postgres/fresh_postgres_store.h"

namespace linechannel::storage {
namespace {

// The value of setting `name` on `db`; fails the test and returns "" on errors.
std::string Show(PgConnection& db, const std::string& name) {
  auto result = db.Exec(absl::StrCat("SHOW ", name), "showing a setting");
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok() || result->rows() != 1) return "";
  return result->Text(0, 0);
}

// A connection opened as the store opens its own, on `url`; null (and the test failed) if it
// cannot be opened.
std::unique_ptr<PgConnection> StoreConnection(const std::string& url) {
  auto db = PgConnection::Open({url, absl::Seconds(5)});
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *std::move(db) : nullptr;
}

TEST(PostgresDurabilityTest, StoreConnectionsCommitSynchronouslyOverADatabaseDefaultOfOff) {
  const std::string url = FreshPostgresDatabase();
  ASSERT_FALSE(url.empty());
  {
    // A database whose owner turned synchronous commits off for every session by default.
    std::unique_ptr<PgConnection> admin = StoreConnection(url);
    ASSERT_NE(admin, nullptr);
    auto name = admin->Exec("SELECT current_database()", "naming the database");
    ASSERT_TRUE(name.ok()) << name.status();
    ASSERT_TRUE(admin
                    ->Exec(absl::StrCat("ALTER DATABASE \"", name->Text(0, 0),
                                        "\" SET synchronous_commit = off"),
                           "changing the default")
                    .ok());
  }
  PostgresStore::Options options;
  options.url = url;
  std::unique_ptr<PostgresStore> store = OpenPostgresStore(options);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(
      store->InsertActive(MakeBinding("t1", "100"), {"tester", absl::Now(), ""}, nullptr).ok());

  std::unique_ptr<PgConnection> db = StoreConnection(url);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Show(*db, "synchronous_commit"), "on");
  // The default really is off (so the line above checks the store's own setting): a session
  // that resets to the database's defaults sees it.
  ASSERT_TRUE(db->Exec("RESET synchronous_commit", "resetting").ok());
  EXPECT_EQ(Show(*db, "synchronous_commit"), "off");
}

TEST(PostgresDurabilityTest, TheTestClusterKeepsFsyncOn) {
  const std::string url = FreshPostgresDatabase();
  ASSERT_FALSE(url.empty());
  std::unique_ptr<PgConnection> db = StoreConnection(url);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(Show(*db, "fsync"), "on");
  EXPECT_EQ(Show(*db, "full_page_writes"), "on");
}

}  // namespace
}  // namespace linechannel::storage
