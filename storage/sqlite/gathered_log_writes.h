#ifndef LINECHANNEL_STORAGE_SQLITE_GATHERED_LOG_WRITES_H_
#define LINECHANNEL_STORAGE_SQLITE_GATHERED_LOG_WRITES_H_

#include <sqlite3.h>

#include <cstdint>

namespace linechannel::storage {

// The name of a SQLite VFS that hands the write-ahead log's back-to-back writes to the OS as
// one write, over `base` (the VFS the connection would use otherwise; a test's fault-injecting
// VFS, say). Registered on first use for each base, never the default. Thread-safe.
//
// SQLite writes each log frame as two writes, its 24-byte header and its page, so a commit of
// a hundred pages is two hundred system calls, and each page's write touches two pages of the
// OS's cache (a frame is 24 bytes longer than a page). Through this VFS a run of writes that
// each begin where the last ended (up to kGatheredLogWriteBytes) waits in memory, and goes out
// as one write before anything else is done with the log or with its connection's database
// file (but asking the device's sector size or characteristics, or letting go of a mapping): a
// sync (so a commit's frames are written before the sync that makes them durable), a read of
// either file, a size, a write elsewhere, any lock, and any use of the shared-memory index, the
// only way other connections learn of frames (so none can read the log before the frames are
// in it, nor write where they go).
//
// A run that fails to go out fails the call that sent it, and every later call on the log and
// its database file, until the write transaction ends (its commit's sync included: SQLite took
// the run's writes for done, and may reach the commit without learning of the failure, from a
// read that failed inside a statement it rolled back). Letting go of a lock happens even so.
// Only the barrier before a commit is published cannot report a failure: if its run cannot go
// out the process ends (with synchronous=FULL the commit's sync has sent every run out, or
// failed the commit). A connection that takes the exclusive locking mode (where SQLite takes
// the log's locks without telling the VFS) has its log written through from then on. Journals
// and temporary files are `base`'s own, untouched.
const char* GatheringLogWritesVfs(sqlite3_vfs* base);

// Longest run kept in memory. The unix VFS writes at most 128 KiB - 1 bytes a call (it masks
// the amount it is given to 17 bits), and past a few dozen frames a longer run saves little.
inline constexpr int kGatheredLogWriteBytes = 120 << 10;

// The writes the OS has been asked to make of logs opened through GatheringLogWritesVfs,
// against those SQLite made of them, since the process started: what a test reads to see that
// writes were gathered.
struct LogWriteCounts {
  int64_t asked_by_sqlite = 0;
  int64_t bytes_asked_by_sqlite = 0;
  int64_t made = 0;
};
LogWriteCounts GatheredLogWriteCounts();

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_SQLITE_GATHERED_LOG_WRITES_H_
