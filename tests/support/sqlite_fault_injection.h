#ifndef LINECHANNEL_TESTS_SUPPORT_SQLITE_FAULT_INJECTION_H_
#define LINECHANNEL_TESTS_SUPPORT_SQLITE_FAULT_INJECTION_H_

#include <string>

#include "absl/strings/string_view.h"

namespace linechannel::testing {

// Storage faults a test can switch on in a running store, to prove that nothing unstored is
// ever acknowledged and that the store recovers once the fault clears.
enum class StorageFault {
  kNone,
  // Writes fail as on a full disk (SQLITE_FULL).
  kDiskFull,
  // Writes and syncs fail with I/O errors (SQLITE_IOERR_WRITE, SQLITE_IOERR_FSYNC).
  kIoError,
  // Writes fail as on a read-only file (SQLITE_READONLY).
  kReadOnly,
};

// Registers a SQLite VFS that wraps the default one and fails file writes and syncs while a
// fault is set, and makes it the default for connections opened afterwards. For tests and
// channeld_test_hooks only: production channeld does not link it. Without a fault set it only
// forwards. Call before opening the store. Thread-safe; idempotent.
void InstallFaultInjection();

// Sets (or with kNone clears) the fault for every file of every connection.
void SetStorageFault(StorageFault fault);

// "none", "disk_full", "io_error", "read_only"; false for anything else.
bool ParseStorageFault(absl::string_view text, StorageFault* fault);

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_SUPPORT_SQLITE_FAULT_INJECTION_H_
