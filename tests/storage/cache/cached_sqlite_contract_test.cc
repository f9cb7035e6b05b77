// The store contract (tests/storage/store_contract.h) run against the caching store in front
// of the SQLite store, so caching can change no answer of the contract.

#include <memory>
#include <string>

#include "storage/cache/caching_store.h"
#include "tests/storage/sqlite/fresh_sqlite_store.h"
#include "tests/storage/store_contract.h"
#include "tests/support/sqlite_audit_trigger.h"

namespace linechannel::storage {
namespace {

class CachedSqliteUnderTest : public StoreUnderTest {
 public:
  CachedSqliteUnderTest(std::unique_ptr<SqliteStore> sqlite, std::string path)
      : cache_(std::make_unique<CachingStore>(AllRolesOf(*sqlite), 1000)),
        sqlite_(std::move(sqlite)),
        path_(std::move(path)) {}
  Store roles() override { return cache_->roles(); }
  absl::Status RefuseAuditRows(bool refuse) override {
    return testing::RefuseSqliteAuditRows(path_, refuse);
  }

 private:
  // Destroyed after the SQLite store, whose last callbacks may still run through it.
  std::unique_ptr<CachingStore> cache_;
  std::unique_ptr<SqliteStore> sqlite_;
  std::string path_;
};

std::unique_ptr<StoreUnderTest> MakeCachedSqlite(const std::string& dir) {
  std::unique_ptr<SqliteStore> store = FreshSqliteStore(dir);
  if (store == nullptr) return nullptr;
  return std::make_unique<CachedSqliteUnderTest>(std::move(store), FreshSqliteStorePath(dir));
}

INSTANTIATE_TEST_SUITE_P(CachedSqlite, StoreContractTest,
                         ::testing::Values(StoreFactory{"CachedSqlite", MakeCachedSqlite}),
                         StoreFactoryName);

}  // namespace
}  // namespace linechannel::storage
