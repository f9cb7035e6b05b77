#ifndef LINECHANNEL_STORAGE_SQLITE_SCHEMA_H_
#define LINECHANNEL_STORAGE_SQLITE_SCHEMA_H_

#include "SQLiteCpp/Database.h"
#include "absl/status/status.h"

namespace linechannel::storage {

// The schema version this build writes. Kept in SQLite's `user_version`.
int CurrentSchemaVersion();

// Brings the database to CurrentSchemaVersion(), one forward migration per transaction, so a
// crash mid-way leaves the file at a whole version. A fresh file is created at the current
// version. FAILED_PRECONDITION if the file belongs to another application or comes from a
// newer build (its version is higher than ours): we never guess at a schema we do not know.
// Tests pass a lower `to_version` to make a file as an earlier build left it.
absl::Status MigrateSchema(SQLite::Database& db, int to_version = CurrentSchemaVersion());

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_SCHEMA_H_
