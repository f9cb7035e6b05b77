// bench_store_append: the SQLite store's own cost of storing webhook events, without HTTP,
// JSON or signatures: requests of --events_per_request events (~600-byte raw JSON, new ULID-like
// webhookEventIds that grow with time, spread over --bindings bindings of --teams teams) go to
// SqliteStore::AppendEvents with --in_flight outstanding, as the webhook server sends them, in
// a new file with channeld's settings (synchronous=FULL, its page size, checkpoint size and
// commit linger).
//
// The webhook rows of tools/bench/run measure the whole path on a machine that wrk shares: a
// change that saves a tenth of the store's CPU is lost in their noise. This prints what the
// store costs per event: the process's CPU (user + system, the checkpointer's included) and the
// commit thread's own, the commits and the WAL frames, the rate, and the bytes the disk wrote
// (the log and the checkpoints, through the last one when the store closes: what the webhook
// rows' "KiB to disk/stored event" counts in steady state). Compare builds as ratios in one run,
// interleaved.

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/server_config.h"
#include "storage/sqlite/commit_queue.h"
#include "storage/sqlite/sqlite_store.h"

ABSL_FLAG(std::string, db, "", "The database file to create (must not exist).");
ABSL_FLAG(int, events_per_request, 20, "Events in each request.");
ABSL_FLAG(int, requests, 20000, "Requests stored.");
ABSL_FLAG(int, in_flight, 64, "Requests outstanding at once (the bench's wrk connections).");
ABSL_FLAG(int, bindings, 1000, "Bindings the requests are spread over.");
ABSL_FLAG(int, teams, 100, "Teams the bindings belong to.");
ABSL_FLAG(int, page_size, linechannel::server::ServerConfig{}.sqlite_page_size,
          "Page size of the new file (channeld's --sqlite_page_size by default; 0: SQLite's).");
ABSL_FLAG(int, checkpoint_pages, linechannel::server::ServerConfig{}.sqlite_checkpoint_pages,
          "Log pages at which the store's checkpointer copies the log into the file "
          "(channeld's --sqlite_checkpoint_pages by default).");
ABSL_FLAG(absl::Duration, commit_linger, linechannel::server::ServerConfig{}.sqlite_commit_linger,
          "Longest the commit thread holds a commit back for more writes (channeld's "
          "--sqlite_commit_linger by default).");

namespace linechannel::bench {
namespace {

using storage::AppendResult;
using storage::Binding;
using storage::CommitQueue;
using storage::EventBatch;
using storage::NewEvent;
using storage::SqliteStore;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bench_store_append: %s\n", message.c_str());
  std::exit(1);
}

// The process's CPU time so far, user and system, every thread.
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Seconds on a CPU so far of this process's thread named `name` (-1 if there is none), from
// its schedstat (nanoseconds, the same figure the webhook rows read): the store's committer, the
// one thread every write goes through, is told apart from this program's own sending thread.
double ThreadCpuSeconds(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string thread_name;
    if (!std::getline(comm, thread_name) || thread_name != name) continue;
    std::ifstream schedstat(task.path() / "schedstat");
    int64_t on_cpu_ns = 0;
    return schedstat >> on_cpu_ns ? static_cast<double>(on_cpu_ns) / 1e9 : -1;
  }
  return -1;
}

// What the process has sent to the storage layer so far (/proc/self/io write_bytes): the
// kernel counts each folio of the page cache the process dirties, as the webhook rows count
// channeld's "dirtied in the page cache".
int64_t BytesWritten() {
  std::ifstream io("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == "write_bytes:") return value;
  }
  Die("/proc/self/io has no write_bytes");
}

// What the block device holding `path` has written so far, by its own count
// (/sys/dev/block/MAJ:MIN/stat, by every process), once the page cache is written out; -1
// where the kernel does not say. Unlike write_bytes, which counts a whole cached folio each
// time a write dirties it, this is what reached the disk.
int64_t DeviceBytesWritten(const std::string& path) {
  sync();
  struct stat file;
  if (stat(path.c_str(), &file) != 0) return -1;
  std::ifstream device_stat(
      absl::StrCat("/sys/dev/block/", major(file.st_dev), ":", minor(file.st_dev), "/stat"));
  int64_t field = 0;
  for (int i = 0; i < 7; ++i) {
    if (!(device_stat >> field)) return -1;
  }
  return field * 512;  // The seventh field: sectors written.
}

Binding NewBinding(int n, int teams) {
  const std::string channel = absl::StrCat(1'600'000'000 + n);
  const absl::Time now = absl::Now();
  Binding b;
  b.binding_id = absl::StrCat("bench-", n);
  b.team_id = absl::StrCat("team-", n % teams);
  b.app_name = "App " + channel;
  b.channel_id = channel;
  b.line_id = "@line" + channel;
  b.bot_user_id = "U" + channel;
  b.bot_display_name = "Bot " + channel;
  b.webhook_key = absl::StrCat("key-", n);
  b.channel_secret = {"k1", "sealed-secret"};
  b.access_token = {"k1", "sealed-token"};
  b.verified_with_line = true;
  b.bound_at = now;
  b.bound_by = "bench";
  b.credentials_updated_at = now;
  return b;
}

// A LINE-like text message event of about 600 bytes with webhookEventId `id`.
NewEvent NewMessage(const std::string& id, int64_t timestamp_ms) {
  NewEvent e;
  e.webhook_event_id = id;
  e.type = "message";
  e.timestamp_ms = timestamp_ms;
  e.mode = "active";
  e.source_type = "user";
  e.source_user_id = "U4af4980629c7e8b0d0f8e0e5a4c6f6e1";
  e.raw_json = absl::StrCat(
      R"({"type":"message","message":{"type":"text","id":"468789577898262530",)",
      R"("quoteToken":"q3Plxr4AgKd0l8h2sXh0Wj2mKf8sXlYx8qkEoV7Xz1m4sW5pTn3bC6vR9dYu2eHgQ0aZ",)",
      R"("text":")", std::string(260, 'x'), R"("},"webhookEventId":")", id,
      R"(","deliveryContext":{"isRedelivery":false},"timestamp":)", timestamp_ms,
      R"(,"source":{"type":"user","userId":"U4af4980629c7e8b0d0f8e0e5a4c6f6e1"},)",
      R"("replyToken":"b60d432864f44d079f6d8efe86cf404b","mode":"active"})");
  return e;
}

int Main() {
  const std::string path = absl::GetFlag(FLAGS_db);
  const int per_request = absl::GetFlag(FLAGS_events_per_request);
  const int requests = absl::GetFlag(FLAGS_requests);
  const int in_flight_max = absl::GetFlag(FLAGS_in_flight);
  const int bindings = absl::GetFlag(FLAGS_bindings);
  const int teams = absl::GetFlag(FLAGS_teams);
  if (path.empty()) Die("--db is required");
  if (std::filesystem::exists(path)) Die(path + " exists: give a new file");
  if (per_request < 1 || requests < 1 || in_flight_max < 1 || bindings < 1 || teams < 1) {
    Die("--events_per_request, --requests, --in_flight, --bindings and --teams must be >= 1");
  }

  absl::Mutex mu;
  int64_t commits = 0;
  int64_t wal_frames = 0;
  SqliteStore::Options options;
  options.path = path;
  options.page_size = absl::GetFlag(FLAGS_page_size);
  options.checkpoint_wal_pages = absl::GetFlag(FLAGS_checkpoint_pages);
  options.commit_linger = absl::GetFlag(FLAGS_commit_linger);
  options.commit_observer = [&](absl::Duration, int, bool) {
    absl::MutexLock lock(&mu);
    ++commits;
  };
  options.wal_frames_observer = [&](int64_t frames) {
    absl::MutexLock lock(&mu);
    wal_frames += frames;
  };
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  if (!store.ok()) Die(store.status().ToString());

  std::vector<Binding> bound;
  for (int n = 0; n < bindings; ++n) {
    absl::StatusOr<Binding> b =
        (*store)->InsertActive(NewBinding(n, teams), {"bench", {}, ""}, nullptr);
    if (!b.ok()) Die(b.status().ToString());
    bound.push_back(*std::move(b));
  }
  // Every request's events made before the clock starts: the store's cost alone is timed.
  int64_t next_id = 0;
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  std::vector<EventBatch> batches;
  batches.reserve(requests);
  for (int r = 0; r < requests; ++r) {
    const Binding& b = bound[r % bindings];
    EventBatch& batch = batches.emplace_back();
    batch.binding_row_id = b.row_id;
    batch.team_id = b.team_id;
    batch.channel_id = b.channel_id;
    for (int e = 0; e < per_request; ++e) {
      batch.events.push_back(
          NewMessage(absl::StrFormat("01JBENCH%018d", next_id++), now_ms + r / 20));
    }
  }
  {
    absl::MutexLock lock(&mu);
    commits = 0;
    wal_frames = 0;
  }

  // Requests sent and not answered yet, under mu.
  struct Window {
    int in_flight = 0;
    int limit = 0;
    bool HasRoom() const { return in_flight < limit; }
    bool Empty() const { return in_flight == 0; }
  } window{0, in_flight_max};
  int64_t stored = 0;
  int64_t failed = 0;
  // Of the file's directory: closing the store removes its log.
  std::string directory = std::filesystem::path(path).parent_path().string();
  if (directory.empty()) directory = ".";
  const int64_t device_start = DeviceBytesWritten(directory);
  const int64_t written_start = BytesWritten();
  const double cpu_start = CpuSeconds();
  const double committer_start = ThreadCpuSeconds(CommitQueue::kCommitterThreadName);
  const absl::Time start = absl::Now();
  for (EventBatch& batch : batches) {
    {
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(&window, &Window::HasRoom));
      ++window.in_flight;
    }
    batch.received_at = absl::Now();
    (*store)->AppendEvents(std::move(batch), [&](absl::StatusOr<AppendResult> result) {
      absl::MutexLock lock(&mu);
      --window.in_flight;
      if (result.ok()) {
        stored += result->stored;
      } else {
        // The first says why; the count says how many more.
        if (failed == 0) {
          std::fprintf(stderr, "a request failed: %s\n", result.status().ToString().c_str());
        }
        ++failed;
      }
    });
  }
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&window, &Window::Empty));
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  const double cpu = CpuSeconds() - cpu_start;
  const double committer_end = ThreadCpuSeconds(CommitQueue::kCommitterThreadName);
  // Closing the last connection copies what is left in the log into the file.
  store->reset();
  const int64_t written = BytesWritten() - written_start;
  const int64_t device_end = DeviceBytesWritten(directory);
  const std::string device_kib_per_event =
      device_start < 0 || device_end < 0
          ? "n/a (no device count)"
          : absl::StrFormat("%.2f", static_cast<double>(device_end - device_start) / 1024.0 /
                                        (static_cast<double>(requests) * per_request));
  absl::MutexLock lock(&mu);
  const int64_t events = int64_t{requests} * per_request;
  // The printed figures are all ratios.
  const auto per_event = static_cast<double>(events);
  const auto commit_count = static_cast<double>(commits);
  // What a WAL frame is on disk: a 24-byte header and the page.
  const int page_size = absl::GetFlag(FLAGS_page_size) > 0 ? absl::GetFlag(FLAGS_page_size) : 4096;
  const std::string committer_us_per_event =
      committer_start < 0 || committer_end < 0
          ? "n/a"
          : absl::StrFormat("%.2f", (committer_end - committer_start) * 1e6 / per_event);
  std::printf(
      "%d requests of %d events: %.2f us CPU/event (%.2f cores; the commit thread %s us/event), "
      "%.0f "
      "events/s, %.1f requests "
      "per commit, %.1f WAL frames per commit, %.2f KiB to the WAL and %s KiB to disk per "
      "event (%.2f dirtied in the page cache); stored %lld of %lld, %lld requests failed\n",
      requests, per_request, cpu * 1e6 / per_event, cpu / seconds, committer_us_per_event.c_str(),
      per_event / seconds, requests / commit_count, static_cast<double>(wal_frames) / commit_count,
      static_cast<double>(wal_frames) * (page_size + 24) / 1024.0 / per_event,
      device_kib_per_event.c_str(), static_cast<double>(written) / 1024.0 / per_event,
      static_cast<long long>(stored), static_cast<long long>(events),
      static_cast<long long>(failed));
  return failed == 0 && stored == events ? 0 : 1;
}

}  // namespace
}  // namespace linechannel::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Stores webhook events through the SQLite store alone and prints its CPU per event.");
  absl::ParseCommandLine(argc, argv);
  return linechannel::bench::Main();
}
