#ifndef LINECHANNEL_TESTS_SUPPORT_SQLITE_AUDIT_TRIGGER_H_
#define LINECHANNEL_TESTS_SUPPORT_SQLITE_AUDIT_TRIGGER_H_

#include <string>

#include "SQLiteCpp/Database.h"
#include "absl/status/status.h"

namespace linechannel::testing {

// Makes the store's SQLite file at `path` refuse every new audit row (`refuse`) or take them
// again, through a connection of its own: a trigger aborts each insert into the audit log, as
// a fault between a change and its audit row would. The store's connections (or channeld's)
// see it from their next statement; nothing in the store under test knows about it.
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

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_SUPPORT_SQLITE_AUDIT_TRIGGER_H_
