#include "storage/sqlite/gathered_log_writes.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>

#include "absl/base/attributes.h"
#include "absl/base/const_init.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace linechannel::storage {
namespace {

std::atomic<int64_t> writes_asked{0};
std::atomic<int64_t> bytes_asked{0};
std::atomic<int64_t> writes_made{0};

// The shared-memory lock a connection holds from the start of a write transaction to its end
// (WAL_WRITE_LOCK in SQLite's wal.c; the WAL-index file format fixes it at 0).
constexpr int kLogWriteLock = 0;

// Registered VFSs must outlive every connection, so these are never freed.
struct GatheringVfs {
  sqlite3_vfs vfs;  // First: SQLite hands xOpen a pointer to it, cast back in Open.
  sqlite3_vfs* base;
};
static_assert(std::is_standard_layout_v<GatheringVfs>);

// The writes of a log waiting to go out: `bytes` belong at `offset` in the file.
struct Run {
  std::string bytes;
  sqlite3_int64 offset = 0;
  // Set when a run failed to go out: SQLite took those writes for done when it made them, and
  // may reach a commit without learning of the failure (from a read that failed and a
  // statement rolled back, say). Every call on the log and its database file fails with it,
  // the commit's sync among them, until the write transaction ends, which drops the frames.
  int failed = SQLITE_OK;
};

// A database file or a log opened through the VFS; the base VFS's file lives right after it in
// one allocation. A connection's two are linked, for the database file's locks and shared
// memory, not the log's, are where other connections learn of the log.
struct File {
  sqlite3_file file;  // First: SQLite passes a pointer to it.
  sqlite3_file* real;
  sqlite3_filename name;
  bool is_log;
  // Of a database file: its connection took the exclusive locking mode, where SQLite takes the
  // log's locks without telling the VFS, so no run may wait (see NoticePragma).
  bool write_through;
  // Of a log: what waits to go out (null if it is written through). Of a database file: null.
  Run* run;
  // Of a log: its database file. Of a database file: its log while that is open.
  File* partner;
};
// The base's file starts right after ours, as aligned as SQLite aligns its own such pairs.
static_assert(sizeof(File) % alignof(void*) == 0);
static_assert(std::is_standard_layout_v<File>);

File* Of(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
sqlite3_file* Real(sqlite3_file* f) { return Of(f)->real; }
const sqlite3_io_methods* RealMethods(sqlite3_file* f) { return Real(f)->pMethods; }

// Database files by the name SQLite opened them with, which is its own pointer per connection
// and which sqlite3_filename_database() gives back for the connection's log.
ABSL_CONST_INIT absl::Mutex files_mu(absl::kConstInit);
absl::flat_hash_map<sqlite3_filename, File*>& DatabaseFiles()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(files_mu) {
  static auto* files = new absl::flat_hash_map<sqlite3_filename, File*>();
  return *files;
}

Run* WaitingRun(sqlite3_file* f) {
  File* file = Of(f);
  if (file->run != nullptr) return file->run;
  return file->partner != nullptr ? file->partner->run : nullptr;
}

sqlite3_file* LogOf(sqlite3_file* f) {
  File* file = Of(f);
  return file->run != nullptr ? f : &file->partner->file;
}

int WriteNow(sqlite3_file* log, const char* bytes, int amount, sqlite3_int64 offset) {
  writes_made.fetch_add(1, std::memory_order_relaxed);
  return RealMethods(log)->xWrite(Real(log), bytes, amount, offset);
}

// Hands the connection's waiting run to the OS; a failure stays (Run::failed). Every call on
// either file but a write that continues the run, and the three that only describe the device
// or let go of a mapping, comes here first.
int GoOut(sqlite3_file* f) {
  Run* run = WaitingRun(f);
  if (run == nullptr) return SQLITE_OK;
  if (run->failed != SQLITE_OK) return run->failed;
  if (run->bytes.empty()) return SQLITE_OK;
  run->failed =
      WriteNow(LogOf(f), run->bytes.data(), static_cast<int>(run->bytes.size()), run->offset);
  run->bytes.clear();
  return run->failed;
}

int Write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  Run* run = Of(f)->run;
  if (run == nullptr || (Of(f)->partner != nullptr && Of(f)->partner->write_through)) {
    if (const int rc = GoOut(f); rc != SQLITE_OK) return rc;
    return RealMethods(f)->xWrite(Real(f), buf, amount, offset);
  }
  writes_asked.fetch_add(1, std::memory_order_relaxed);
  bytes_asked.fetch_add(amount, std::memory_order_relaxed);
  const auto* bytes = static_cast<const char*>(buf);
  const bool continues =
      !run->bytes.empty() && offset == run->offset + static_cast<sqlite3_int64>(run->bytes.size());
  if (!continues || run->bytes.size() + amount > kGatheredLogWriteBytes) {
    if (const int rc = GoOut(f); rc != SQLITE_OK) return rc;
    if (amount >= kGatheredLogWriteBytes) return WriteNow(f, bytes, amount, offset);
    // Room for a whole run once, so that appending never allocates (nor throws).
    if (run->bytes.capacity() < kGatheredLogWriteBytes) {
      try {
        run->bytes.reserve(kGatheredLogWriteBytes);
      } catch (const std::bad_alloc&) {
        return WriteNow(f, bytes, amount, offset);
      }
    }
    run->offset = offset;
  }
  run->bytes.append(bytes, amount);
  return SQLITE_OK;
}

int Close(sqlite3_file* f) {
  const int gone_out = GoOut(f);
  const int rc = RealMethods(f)->xClose(Real(f));
  File* file = Of(f);
  if (file->partner != nullptr) file->partner->partner = nullptr;
  if (file->is_log) {
    delete file->run;
  } else {
    absl::MutexLock lock(&files_mu);
    auto registered = DatabaseFiles().find(file->name);
    if (registered != DatabaseFiles().end() && registered->second == file) {
      DatabaseFiles().erase(registered);
    }
  }
  return gone_out != SQLITE_OK ? gone_out : rc;
}
int Read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  if (const int rc = GoOut(f); rc != SQLITE_OK) return rc;
  return RealMethods(f)->xRead(Real(f), buf, amount, offset);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (const int rc = GoOut(f); rc != SQLITE_OK) return rc;
  return RealMethods(f)->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  if (const int rc = GoOut(f); rc != SQLITE_OK) return rc;
  return RealMethods(f)->xSync(Real(f), flags);
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) {
  if (const int rc = GoOut(f); rc != SQLITE_OK) return rc;
  return RealMethods(f)->xFileSize(Real(f), size);
}
int Lock(sqlite3_file* f, int level) {
  if (const int rc = GoOut(f); rc != SQLITE_OK) return rc;
  return RealMethods(f)->xLock(Real(f), level);
}
// A lock is let go whatever became of the run: SQLite does not retry a release.
int Unlock(sqlite3_file* f, int level) {
  const int gone_out = GoOut(f);
  const int rc = RealMethods(f)->xUnlock(Real(f), level);
  return gone_out != SQLITE_OK ? gone_out : rc;
}
int CheckReservedLock(sqlite3_file* f, int* out) {
  if (const int rc = GoOut(f); rc != SQLITE_OK) return rc;
  return RealMethods(f)->xCheckReservedLock(Real(f), out);
}
// In the exclusive locking mode SQLite takes and lets go of the log's locks in itself, never
// through xShmLock, and before the log is opened it keeps the index in its own memory, never
// calling xShmBarrier: the moments a run must go out would pass unseen. SQLite hands every
// PRAGMA to the database file first, so a connection that asks for that mode is seen here, and
// its log is written through from then on.
void NoticePragma(sqlite3_file* f, char** pragma) {
  File* file = Of(f);
  if (file->is_log || pragma[1] == nullptr || pragma[2] == nullptr) return;
  if (sqlite3_stricmp(pragma[1], "locking_mode") == 0 &&
      sqlite3_stricmp(pragma[2], "exclusive") == 0) {
    file->write_through = true;
  }
}

int FileControl(sqlite3_file* f, int op, void* arg) {
  if (const int rc = GoOut(f); rc != SQLITE_OK) return rc;
  if (op == SQLITE_FCNTL_PRAGMA) NoticePragma(f, static_cast<char**>(arg));
  return RealMethods(f)->xFileControl(Real(f), op, arg);
}
int SectorSize(sqlite3_file* f) { return RealMethods(f)->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) {
  return RealMethods(f)->xDeviceCharacteristics(Real(f));
}
int ShmMap(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  if (const int rc = GoOut(f); rc != SQLITE_OK) return rc;
  return RealMethods(f)->xShmMap(Real(f), page, size, extend, out);
}
// Taking a lock of the log (to write, to read a snapshot, to checkpoint) waits for the run;
// letting one go happens whatever became of it, as with Unlock. Letting go of the write lock
// ends the write transaction: SQLite has dropped every frame after the last commit then, a
// failed run's among them, and writes them anew in the next, so the failure is forgotten.
int ShmLock(sqlite3_file* f, int offset, int n, int flags) {
  const bool releases = (flags & SQLITE_SHM_UNLOCK) != 0;
  const int gone_out = GoOut(f);
  if (gone_out != SQLITE_OK && !releases) return gone_out;
  const int rc = RealMethods(f)->xShmLock(Real(f), offset, n, flags);
  if (releases && (flags & SQLITE_SHM_EXCLUSIVE) != 0 && offset <= kLogWriteLock &&
      kLogWriteLock < offset + n) {
    // The run itself is empty: the GoOut above sent it out, or dropped it when it failed.
    if (Run* run = WaitingRun(f); run != nullptr) run->failed = SQLITE_OK;
  }
  return releases || gone_out == SQLITE_OK ? rc : gone_out;
}
// SQLite calls the barrier just before it publishes a commit to other connections (and where
// no run can wait: reading or resetting the index's header, recovering it), and it cannot fail.
// With synchronous=FULL (every connection channeld opens) the commit's sync has sent its frames
// out already, or failed the commit. With less they go out here (or at a call in between), and
// if they cannot, publishing the commit would point readers at frames the file does not hold:
// ending the process instead loses only that commit, which nobody was told of yet.
void ShmBarrier(sqlite3_file* f) {
  if (const int rc = GoOut(f); rc != SQLITE_OK) {
    std::fprintf(stderr,
                 "storage: log frames could not be written (SQLite error %d) and SQLite was "
                 "about to publish a commit; stopping\n",
                 rc);
    std::abort();
  }
  RealMethods(f)->xShmBarrier(Real(f));
}
int ShmUnmap(sqlite3_file* f, int delete_flag) {
  const int gone_out = GoOut(f);
  const int rc = RealMethods(f)->xShmUnmap(Real(f), delete_flag);
  return gone_out != SQLITE_OK ? gone_out : rc;
}
int Fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  if (const int rc = GoOut(f); rc != SQLITE_OK) return rc;
  return RealMethods(f)->xFetch(Real(f), offset, amount, out);
}
int Unfetch(sqlite3_file* f, sqlite3_int64 offset, void* p) {
  return RealMethods(f)->xUnfetch(Real(f), offset, p);
}

// Of version 3, as the unix VFS's own files (shared memory, memory mapping); a file of the base
// VFS with older methods gets a copy of the version it has (MethodsFor).
const sqlite3_io_methods kMethods = {3,
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

// kMethods marked as of an older version, never freed.
const sqlite3_io_methods* OfVersion(int version) {
  auto* methods = new sqlite3_io_methods(kMethods);
  methods->iVersion = version;
  return methods;
}

// Ours, of the base file's version: SQLite calls no method a file's version lacks.
const sqlite3_io_methods* MethodsFor(const sqlite3_io_methods* real) {
  static const sqlite3_io_methods* const older[] = {OfVersion(1), OfVersion(2)};
  return real->iVersion >= 3 ? &kMethods : older[std::max(real->iVersion, 1) - 1];
}

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  sqlite3_vfs* base = reinterpret_cast<GatheringVfs*>(vfs)->base;
  const bool log = (flags & SQLITE_OPEN_WAL) != 0;
  // Other files (journals, temporary files) are the base VFS's own, in the same memory.
  if (!log && (flags & SQLITE_OPEN_MAIN_DB) == 0) {
    return base->xOpen(base, name, f, flags, out_flags);
  }
  File* file = Of(f);
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  file->name = name;
  file->is_log = log;
  file->write_through = false;
  file->run = nullptr;
  file->partner = nullptr;
  file->file.pMethods = nullptr;
  const int rc = base->xOpen(base, name, file->real, flags, out_flags);
  // SQLite calls xClose only when pMethods is set: left null if the base's open failed.
  if (file->real->pMethods == nullptr) return rc;
  file->file.pMethods = MethodsFor(file->real->pMethods);
  absl::MutexLock lock(&files_mu);
  // Without memory for the map or the run, a log is written through as it comes.
  try {
    if (!log) {
      // A temporary database (no name) has no log.
      if (name != nullptr) DatabaseFiles()[name] = file;
      return rc;
    }
    // A log whose database file is not ours is written through too.
    auto database = DatabaseFiles().find(sqlite3_filename_database(name));
    if (database == DatabaseFiles().end() || database->second->write_through) return rc;
    file->run = new Run();
    file->partner = database->second;
    database->second->partner = file;
  } catch (const std::bad_alloc&) {
  }
  return rc;
}

}  // namespace

const char* GatheringLogWritesVfs(sqlite3_vfs* base) {
  ABSL_CONST_INIT static absl::Mutex mu(absl::kConstInit);
  static auto* registered = new absl::flat_hash_map<sqlite3_vfs*, GatheringVfs*>();
  absl::MutexLock lock(&mu);
  GatheringVfs*& ours = (*registered)[base];
  if (ours == nullptr) {
    ours = new GatheringVfs();
    ours->base = base;
    // Everything but opening a file is the base's own: it gets its own pAppData as before.
    ours->vfs = *base;
    // The name's characters are held by the VFS itself (its zName), so they are never lost.
    const std::string name = std::string("linechannel_gathered_log_writes_over_") + base->zName;
    char* characters = new char[name.size() + 1];
    std::memcpy(characters, name.c_str(), name.size() + 1);
    ours->vfs.zName = characters;
    ours->vfs.szOsFile = static_cast<int>(sizeof(File)) + base->szOsFile;
    ours->vfs.xOpen = Open;
    ours->vfs.pNext = nullptr;
    sqlite3_vfs_register(&ours->vfs, /*makeDflt=*/0);
  }
  return ours->vfs.zName;
}

LogWriteCounts GatheredLogWriteCounts() {
  return {writes_asked.load(std::memory_order_relaxed), bytes_asked.load(std::memory_order_relaxed),
          writes_made.load(std::memory_order_relaxed)};
}

}  // namespace linechannel::storage
