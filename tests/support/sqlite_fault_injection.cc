#include "tests/support/sqlite_fault_injection.h"

#include <sqlite3.h>

#include <atomic>
#include <mutex>

namespace linechannel::testing {
namespace {

std::atomic<StorageFault> current_fault{StorageFault::kNone};
std::atomic<int64_t> wal_syncs{0};
std::atomic<int64_t> database_syncs{0};
std::atomic<int64_t> log_bytes{0};
std::atomic<int64_t> log_bytes_at_sync{0};
std::atomic<int64_t> log_bytes_at_barrier{0};
sqlite3_vfs* real_vfs = nullptr;
sqlite3_vfs fault_vfs;
sqlite3_io_methods fault_methods;

// Our file: the real VFS's file lives right after it in the same allocation.
struct FaultFile {
  sqlite3_file base;
  sqlite3_file* real;
  // Where its syncs are counted; null for other files (journals, temporary files).
  std::atomic<int64_t>* syncs;
};

sqlite3_file* Real(sqlite3_file* file) { return reinterpret_cast<FaultFile*>(file)->real; }

int WriteFault() {
  switch (current_fault.load()) {
    case StorageFault::kDiskFull:
      return SQLITE_FULL;
    case StorageFault::kIoError:
      return SQLITE_IOERR_WRITE;
    case StorageFault::kReadOnly:
      return SQLITE_READONLY;
    case StorageFault::kNone:
      break;
  }
  return SQLITE_OK;
}

int Close(sqlite3_file* f) { return Real(f)->pMethods->xClose(Real(f)); }
int Read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  return Real(f)->pMethods->xRead(Real(f), buf, amount, offset);
}
int Write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  if (const int fault = WriteFault(); fault != SQLITE_OK) return fault;
  const int rc = Real(f)->pMethods->xWrite(Real(f), buf, amount, offset);
  if (rc == SQLITE_OK && reinterpret_cast<FaultFile*>(f)->syncs == &wal_syncs) {
    log_bytes.fetch_add(amount);
  }
  return rc;
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (const int fault = WriteFault(); fault != SQLITE_OK) return fault;
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  if (current_fault.load() == StorageFault::kIoError) return SQLITE_IOERR_FSYNC;
  const int rc = Real(f)->pMethods->xSync(Real(f), flags);
  std::atomic<int64_t>* syncs = reinterpret_cast<FaultFile*>(f)->syncs;
  if (rc == SQLITE_OK && syncs != nullptr) syncs->fetch_add(1);
  if (syncs == &wal_syncs) log_bytes_at_sync.store(log_bytes.load());
  return rc;
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  return Real(f)->pMethods->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) { return Real(f)->pMethods->xLock(Real(f), level); }
int Unlock(sqlite3_file* f, int level) { return Real(f)->pMethods->xUnlock(Real(f), level); }
int CheckReservedLock(sqlite3_file* f, int* out) {
  return Real(f)->pMethods->xCheckReservedLock(Real(f), out);
}
int FileControl(sqlite3_file* f, int op, void* arg) {
  return Real(f)->pMethods->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) {
  return Real(f)->pMethods->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return Real(f)->pMethods->xShmMap(Real(f), page, size, extend, out);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags);
}
void ShmBarrier(sqlite3_file* f) {
  log_bytes_at_barrier.store(log_bytes.load());
  Real(f)->pMethods->xShmBarrier(Real(f));
}
int ShmUnmap(sqlite3_file* f, int delete_flag) {
  return Real(f)->pMethods->xShmUnmap(Real(f), delete_flag);
}
int Fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  return Real(f)->pMethods->xFetch(Real(f), offset, amount, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return Real(f)->pMethods->xUnfetch(Real(f), offset, p);
}

int Open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  auto* ours = reinterpret_cast<FaultFile*>(file);
  ours->real = reinterpret_cast<sqlite3_file*>(ours + 1);
  ours->syncs = (flags & SQLITE_OPEN_WAL) != 0       ? &wal_syncs
                : (flags & SQLITE_OPEN_MAIN_DB) != 0 ? &database_syncs
                                                     : nullptr;
  const int rc = real_vfs->xOpen(real_vfs, name, ours->real, flags, out_flags);
  // SQLite calls xClose only when pMethods is set: leave it null if the real open failed.
  ours->base.pMethods = ours->real->pMethods != nullptr ? &fault_methods : nullptr;
  return rc;
}

int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return real_vfs->xDelete(real_vfs, name, sync_dir);
}

}  // namespace

void InstallFaultInjection() {
  static std::once_flag once;
  std::call_once(once, [] {
    real_vfs = sqlite3_vfs_find(nullptr);
    fault_vfs = *real_vfs;
    fault_vfs.zName = "linechannel_faults";
    fault_vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + real_vfs->szOsFile;
    fault_vfs.xOpen = Open;
    fault_vfs.xDelete = Delete;
    fault_vfs.pNext = nullptr;
    // The unix VFS's files use io methods of version 3 (shared memory and mmap).
    fault_methods = {3,
                     Close,
                     Read,
                     Write,
                     Truncate,
                     Sync,
                     FileSize,
                     Lock,
                     Unlock,
                     CheckReservedLock,
                     FileControl,
                     SectorSize,
                     DeviceCharacteristics,
                     ShmMap,
                     ShmLock,
                     ShmBarrier,
                     ShmUnmap,
                     Fetch,
                     Unfetch};
    sqlite3_vfs_register(&fault_vfs, /*makeDflt=*/1);
  });
}

void SetStorageFault(StorageFault fault) { current_fault.store(fault); }

SyncCounts CountedSyncs() { return {wal_syncs.load(), database_syncs.load()}; }

LogBytes CountedLogBytes() {
  return {log_bytes.load(), log_bytes_at_sync.load(), log_bytes_at_barrier.load()};
}

bool ParseStorageFault(absl::string_view text, StorageFault* fault) {
  if (text == "none") {
    *fault = StorageFault::kNone;
  } else if (text == "disk_full") {
    *fault = StorageFault::kDiskFull;
  } else if (text == "io_error") {
    *fault = StorageFault::kIoError;
  } else if (text == "read_only") {
    *fault = StorageFault::kReadOnly;
  } else {
    return false;
  }
  return true;
}

}  // namespace linechannel::testing
