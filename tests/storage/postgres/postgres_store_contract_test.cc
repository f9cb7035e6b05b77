// The store contract (tests/storage/store_contract.h) run against the PostgreSQL store, alone
// and behind the caching store, on databases of a private cluster the suite starts itself.

#include <memory>
#include <string>

#include "storage/cache/caching_store.h"
#include "tests/storage/postgres/fresh_postgres_store.h"
#include "tests/storage/store_contract.h"

namespace linechannel::storage {
namespace {

class PostgresUnderTest : public StoreUnderTest {
 public:
  PostgresUnderTest(std::unique_ptr<PostgresStore> store, std::string url, bool cached)
      : cache_(cached ? std::make_unique<CachingStore>(AllRolesOf(*store), 1000) : nullptr),
        store_(std::move(store)),
        url_(std::move(url)) {}
  Store roles() override { return cache_ ? cache_->roles() : AllRolesOf(*store_); }
  absl::Status RefuseAuditRows(bool refuse) override {
    return RefusePostgresAuditRows(url_, refuse);
  }

 private:
  // Destroyed after the store, whose last callbacks may still run through it.
  std::unique_ptr<CachingStore> cache_;
  std::unique_ptr<PostgresStore> store_;
  std::string url_;
};

// A store on a fresh database, behind the caching store when `cached`; null (and the test
// failed) if it cannot be opened.
std::unique_ptr<StoreUnderTest> MakePostgresUnderTest(bool cached) {
  PostgresStore::Options options;
  options.url = FreshPostgresDatabase();
  if (options.url.empty()) return nullptr;
  std::unique_ptr<PostgresStore> store = OpenPostgresStore(options);
  if (store == nullptr) return nullptr;
  return std::make_unique<PostgresUnderTest>(std::move(store), options.url, cached);
}

std::unique_ptr<StoreUnderTest> MakePostgres(const std::string& /*dir*/) {
  return MakePostgresUnderTest(/*cached=*/false);
}

std::unique_ptr<StoreUnderTest> MakeCachedPostgres(const std::string& /*dir*/) {
  return MakePostgresUnderTest(/*cached=*/true);
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest,
                         ::testing::Values(StoreFactory{"Postgres", MakePostgres},
                                           StoreFactory{"CachedPostgres", MakeCachedPostgres}),
                         StoreFactoryName);

}  // namespace
}  // namespace linechannel::storage
