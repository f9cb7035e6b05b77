#ifndef LINECHANNEL_TESTS_STORAGE_POSTGRES_FRESH_POSTGRES_STORE_H_
#define LINECHANNEL_TESTS_STORAGE_POSTGRES_FRESH_POSTGRES_STORE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "storage/postgres/pg_connection.h"
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

// Makes the store's database at `url` refuse every new audit row (`refuse`) or take them
// again, through a connection of its own: a trigger raises an exception on each insert, as a
// fault between a change and its audit row would.
inline absl::Status RefusePostgresAuditRows(const std::string& url, bool refuse) {
  auto db = PgConnection::Open({url, absl::Seconds(5)});
  if (!db.ok()) return db.status();
  const char* const statements[] = {
      "CREATE OR REPLACE FUNCTION test_refuses_audit() RETURNS trigger LANGUAGE plpgsql AS "
      "$$ BEGIN RAISE EXCEPTION 'audit row refused by the test'; END $$",
      "DROP TRIGGER IF EXISTS test_refuses_audit ON audit_log",
      refuse ? "CREATE TRIGGER test_refuses_audit BEFORE INSERT ON audit_log FOR EACH ROW "
               "EXECUTE FUNCTION test_refuses_audit()"
             : "SELECT 1",
  };
  for (const char* sql : statements) {
    if (auto done = (*db)->Exec(sql, "setting up the audit trigger"); !done.ok()) {
      return done.status();
    }
  }
  return absl::OkStatus();
}

}  // namespace linechannel::storage

#endif  // LINECHANNEL_TESTS_STORAGE_POSTGRES_FRESH_POSTGRES_STORE_H_
