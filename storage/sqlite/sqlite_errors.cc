#include "storage/sqlite/sqlite_errors.h"

#include <sqlite3.h>

#include "absl/strings/str_cat.h"

namespace linechannel::storage {

absl::Status StatusFromSqlite(int extended_code, absl::string_view sqlite_message,
                              absl::string_view what) {
  const std::string message = absl::StrCat("storage: ", what, ": ", sqlite_message);
  // SQLiteCpp reports its own misuse (a missing column, say) with code -1: a bug.
  if (extended_code < 0) return absl::InternalError(message);
  switch (extended_code & 0xff) {
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(message);
    case SQLITE_CORRUPT:
      return absl::DataLossError(message);
    case SQLITE_NOTADB:
      return absl::FailedPreconditionError(message);
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
    case SQLITE_ERROR:
      // Our own SQL is wrong: a bug, not a condition to retry.
      return absl::InternalError(message);
    default:
      // BUSY, LOCKED, FULL, READONLY, IOERR, CANTOPEN, NOMEM, PROTOCOL...: conditions that an
      // operator fixes or that pass, so callers may retry.
      return absl::UnavailableError(message);
  }
}

absl::Status StatusFromSqlite(const SQLite::Exception& e, absl::string_view what) {
  return StatusFromSqlite(e.getExtendedErrorCode(), e.what(), what);
}

}  // namespace linechannel::storage
