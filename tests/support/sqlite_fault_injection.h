#ifndef LINECHANNEL_TESTS_SUPPORT_SQLITE_FAULT_INJECTION_H_
#define LINECHANNEL_TESTS_SUPPORT_SQLITE_FAULT_INJECTION_H_

#include <cstdint>
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

// Registers a SQLite VFS that wraps the default one, fails file writes and syncs while a fault
// is set and counts the syncs that reach the disk, and makes it the default for connections
// opened afterwards. For tests and channeld_test_hooks only: production channeld does not link
// it. Without a fault set it only forwards (and counts). Call before opening the store.
// Thread-safe; idempotent.
void InstallFaultInjection();

// Sets (or with kNone clears) the fault for every file of every connection.
void SetStorageFault(StorageFault fault);

// The syncs (fsync or fdatasync) that SQLite made of every connection's files since
// InstallFaultInjection, by kind of file: what a test compares with the commits a store
// acknowledged, to prove that each was on disk first.
struct SyncCounts {
  // Of write-ahead logs ("-wal"): a commit in WAL mode with synchronous=FULL syncs its log.
  int64_t wal = 0;
  // Of database files (checkpoints copy the log back into them).
  int64_t database = 0;
};
SyncCounts CountedSyncs();

// The bytes written to write-ahead logs through the VFS since InstallFaultInjection, and what
// they were at the last sync of a log and at the last barrier (the moment before SQLite
// publishes a commit to other connections): what a test compares with the bytes SQLite asked
// to write, to prove that a layer above holding writes back had written them by then.
struct LogBytes {
  int64_t written = 0;
  int64_t written_at_last_sync = 0;
  int64_t written_at_last_barrier = 0;
};
LogBytes CountedLogBytes();

// "none", "disk_full", "io_error", "read_only"; false for anything else.
bool ParseStorageFault(absl::string_view text, StorageFault* fault);

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_SUPPORT_SQLITE_FAULT_INJECTION_H_
