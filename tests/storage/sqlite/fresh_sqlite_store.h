#ifndef LINECHANNEL_TESTS_STORAGE_SQLITE_FRESH_SQLITE_STORE_H_
#define LINECHANNEL_TESTS_STORAGE_SQLITE_FRESH_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "SQLiteCpp/Database.h"
#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "storage/sqlite/sqlite_store.h"

namespace linechannel::storage {

// The file of FreshSqliteStore(dir).
inline std::string FreshSqliteStorePath(const std::string& dir) { return dir + "/store.db"; }

// A new SQLite store in a new file in `dir`, with default options; null (and the test failed)
// if it cannot be opened.
inline std::unique_ptr<SqliteStore> FreshSqliteStore(const std::string& dir) {
  SqliteStore::Options options;
  options.path = FreshSqliteStorePath(dir);
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

// Makes the database file at `path` refuse every new audit row (`refuse`) or take them again,
// through a connection of its own: a trigger aborts each insert, as a fault between a change
// and its audit row would. The store's connections see it from their next statement.
inline absl::Status RefuseSqliteAuditRows(const std::string& path, bool refuse) {
  try {
    SQLite::Database db(path, SQLite::OPEN_READWRITE, /*busyTimeoutMs=*/5000);
    db.exec(refuse ? "CREATE TRIGGER IF NOT EXISTS test_refuses_audit BEFORE INSERT ON audit_log "
                     "BEGIN SELECT RAISE(ABORT, 'audit row refused by the test'); END"
                   : "DROP TRIGGER IF EXISTS test_refuses_audit");
    return absl::OkStatus();
  } catch (const SQLite::Exception& e) {
    return absl::InternalError(e.what());
  }
}

}  // namespace linechannel::storage

#endif  // LINECHANNEL_TESTS_STORAGE_SQLITE_FRESH_SQLITE_STORE_H_
