#ifndef LINECHANNEL_TESTS_STORAGE_POSTGRES_FRESH_POSTGRES_STORE_H_
#define LINECHANNEL_TESTS_STORAGE_POSTGRES_FRESH_POSTGRES_STORE_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "storage/postgres/postgres_store.h"
#include "tests/support/postgres_cluster.h"

namespace linechannel::storage {

// A fresh database on the test process's shared private cluster (PostgresCluster::Shared);
// fails the test and returns "" if it cannot be made.
inline std::string FreshPostgresDatabase() {
  auto cluster = testing::PostgresCluster::Shared();
  if (!cluster.ok()) {
    ADD_FAILURE() << cluster.status();
    return "";
  }
  auto url = (*cluster)->CreateDatabase();
  if (!url.ok()) {
    ADD_FAILURE() << url.status();
    return "";
  }
  return *url;
}

// A store on `options.url` (a fresh database when empty); fails the test and returns null if it
// cannot be opened.
inline std::unique_ptr<PostgresStore> OpenPostgresStore(PostgresStore::Options options = {}) {
  if (options.url.empty()) options.url = FreshPostgresDatabase();
  if (options.url.empty()) return nullptr;
  auto store = PostgresStore::Open(options);
  if (!store.ok()) {
    ADD_FAILURE() << store.status();
    return nullptr;
  }
  return *std::move(store);
}

}  // namespace linechannel::storage

#endif  // LINECHANNEL_TESTS_STORAGE_POSTGRES_FRESH_POSTGRES_STORE_H_
