// The store contract (tests/storage/store_contract.h) run against the SQLite store.

#include <memory>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "tests/storage/sqlite/fresh_sqlite_store.h"
#include "tests/storage/store_contract.h"
#include "tests/support/sqlite_audit_trigger.h"

namespace linechannel::storage {
namespace {

class SqliteUnderTest : public StoreUnderTest {
 public:
  SqliteUnderTest(std::unique_ptr<SqliteStore> store, std::string path)
      : store_(std::move(store)), path_(std::move(path)) {}
  Store roles() override { return AllRolesOf(*store_); }
  absl::Status RefuseAuditRows(bool refuse) override {
    return testing::RefuseSqliteAuditRows(path_, refuse);
  }

 private:
  std::unique_ptr<SqliteStore> store_;
  std::string path_;
};

std::unique_ptr<StoreUnderTest> MakeSqliteWith(const std::string& dir,
                                               SqliteStore::Options options) {
  std::unique_ptr<SqliteStore> store = FreshSqliteStore(dir, std::move(options));
  if (store == nullptr) return nullptr;
  return std::make_unique<SqliteUnderTest>(std::move(store), FreshSqliteStorePath(dir));
}

std::unique_ptr<StoreUnderTest> MakeSqlite(const std::string& dir) {
  return MakeSqliteWith(dir, {});
}

// Event index catch-ups every two rows, a key per table per transaction: in every test, the
// events are read and deduplicated partly through the index tables, partly through the tail,
// and often while a catch-up has put some of the tail's keys in the tables.
std::unique_ptr<StoreUnderTest> MakeSqliteIndexingEveryTwoEvents(const std::string& dir) {
  SqliteStore::Options options;
  options.event_index_batch = 2;
  options.event_index_pieces = 1000;
  return MakeSqliteWith(dir, std::move(options));
}

// The store as channeld opens it by default (ServerConfig's sqlite_* flags, written out here
// because the storage tests do not link the server): the checkpointer's threshold at 4,000
// pages, and a commit thread that may linger for more writes (as it may in
// BurstsOfConcurrentBatchesStoreEachEventOnce).
std::unique_ptr<StoreUnderTest> MakeSqliteAsChanneldOpensIt(const std::string& dir) {
  SqliteStore::Options options;
  options.page_size = 4096;
  options.checkpoint_wal_pages = 4000;
  options.commit_linger = absl::Milliseconds(2);
  return MakeSqliteWith(dir, std::move(options));
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         ::testing::Values(StoreFactory{"Sqlite", MakeSqlite},
                                           StoreFactory{"SqliteIndexingEveryTwoEvents",
                                                        MakeSqliteIndexingEveryTwoEvents},
                                           StoreFactory{"SqliteAsChanneldOpensIt",
                                                        MakeSqliteAsChanneldOpensIt}),
                         StoreFactoryName);

}  // namespace
}  // namespace linechannel::storage
