#ifndef LINECHANNEL_STORAGE_SQLITE_SQLITE_ERRORS_H_
#define LINECHANNEL_STORAGE_SQLITE_SQLITE_ERRORS_H_

#include "SQLiteCpp/Exception.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace linechannel::storage {

// Maps a SQLite failure to the store's status conventions: constraint violations to
// ALREADY_EXISTS, corruption to DATA_LOSS, a newer or foreign file to FAILED_PRECONDITION, and
// everything an operator can fix or that passes by itself (busy, full, read-only, I/O error)
// to UNAVAILABLE. `what` names the operation for the message.
absl::Status StatusFromSqlite(int extended_code, absl::string_view sqlite_message,
                              absl::string_view what);
absl::Status StatusFromSqlite(const SQLite::Exception& e, absl::string_view what);

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_SQLITE_ERRORS_H_
