#ifndef LINECHANNEL_TESTS_STORAGE_SQLITE_FRESH_SQLITE_STORE_H_
#define LINECHANNEL_TESTS_STORAGE_SQLITE_FRESH_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "storage/sqlite/sqlite_store.h"

namespace linechannel::storage {

// The file of FreshSqliteStore(dir).
inline std::string FreshSqliteStorePath(const std::string& dir) { return dir + "/store.db"; }

// A new SQLite store in a new file in `dir`, with `options` (default ones unless given; their
// path is set here); null (and the test failed) if it cannot be opened.
inline std::unique_ptr<SqliteStore> FreshSqliteStore(const std::string& dir,
                                                     SqliteStore::Options options = {}) {
  options.path = FreshSqliteStorePath(dir);
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

}  // namespace linechannel::storage

#endif  // LINECHANNEL_TESTS_STORAGE_SQLITE_FRESH_SQLITE_STORE_H_
