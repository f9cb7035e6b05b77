#ifndef LINECHANNEL_STORAGE_POSTGRES_PG_SCHEMA_H_
#define LINECHANNEL_STORAGE_POSTGRES_PG_SCHEMA_H_

#include "absl/status/status.h"
#include "storage/postgres/pg_connection.h"

namespace linechannel::storage {

// The schema version this build writes.
int CurrentPostgresSchemaVersion();

// Brings the database to the current schema. Replicas starting together take turns under a
// session advisory lock: the first applies the migrations, the others wait for it and then
// find nothing to do. FAILED_PRECONDITION for a database of another program (tables but no
// version of ours) or from a newer build. `db` is a connection for this alone: its lock
// timeout is lifted while it waits.
absl::Status MigratePostgresSchema(PgConnection& db);

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_POSTGRES_PG_SCHEMA_H_
