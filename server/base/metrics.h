#ifndef LINECHANNEL_SERVER_BASE_METRICS_H_
#define LINECHANNEL_SERVER_BASE_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linechannel::server {

// The service's counters and latency histograms, kept in memory and rendered in Prometheus's
// text exposition format for GET /metrics on the admin port. Label values are ours (method
// names, codes, binding ids): never secrets, tokens or team ids. Thread-safe.
class Metrics {
 public:
  void RecordRpc(absl::string_view method, absl::StatusCode code, absl::Duration latency);
  void RecordWebhook(int http_status, absl::Duration latency);
  void RecordEvents(int stored, int duplicates);
  void RecordBadSignature(absl::string_view binding_id);
  // One store transaction: how long it took to commit (with its fsync) and how many writes
  // it carried (group commit shows as more writes than commits).
  void RecordCommit(absl::Duration latency, int writes, bool ok);
  // Pages one SQLite transaction wrote to its write-ahead log.
  void RecordWalFrames(int64_t frames);
  void SetEventStreams(int open);
  // One connection event of the HTTP server `server` ("webhook", "admin"): `outcome` is
  // "opened", "closed" (together: the open-connections gauge), "evicted", "refused" or
  // "timed_out", each counted by `reason`.
  void RecordConnection(absl::string_view server, absl::string_view outcome,
                        absl::string_view reason);

  // One call to LINE's Messaging API: `call` ("reply", "push", "profile", ...) and how it
  // ended: "ok", "already_accepted" (a push's retry key was accepted before) or the lower-case
  // reason of its error.
  void RecordLineCall(absl::string_view call, absl::string_view result, absl::Duration latency);

  std::string RenderPrometheus() const;

 private:
  // Upper bounds in seconds; the last bucket is +Inf.
  static constexpr std::array<double, 14> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  struct Histogram {
    std::array<uint64_t, kBuckets.size() + 1> counts{};
    double sum = 0;
    uint64_t count = 0;
    void Add(absl::Duration d);
  };
  // One RPC method's counts. Every RPC records one sample, so these take no lock: a method's
  // entry is found under a reader lock and its counters are atomic.
  struct RpcMethodStats {
    static constexpr int kCodes = 17;  // absl::StatusCode 0 (OK) to 16 (UNAUTHENTICATED).
    std::array<std::atomic<uint64_t>, kCodes> by_code{};
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> latency_buckets{};
    std::atomic<int64_t> latency_sum_nanos{0};
  };
  static size_t BucketOf(absl::Duration d);
  RpcMethodStats& RpcStatsFor(absl::string_view method) ABSL_LOCKS_EXCLUDED(rpc_mu_);

  // Labels rendered as `name="value",...`, kept sorted so output is stable.
  using Labels = std::string;

  mutable absl::Mutex rpc_mu_;
  // Entries are never removed, so a reference stays valid after the lock is released.
  absl::flat_hash_map<std::string, std::unique_ptr<RpcMethodStats>> rpc_ ABSL_GUARDED_BY(rpc_mu_);

  mutable absl::Mutex mu_;
  std::map<Labels, uint64_t> webhook_requests_ ABSL_GUARDED_BY(mu_);
  Histogram webhook_latency_ ABSL_GUARDED_BY(mu_);
  uint64_t events_stored_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t events_duplicate_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<Labels, uint64_t> bad_signatures_ ABSL_GUARDED_BY(mu_);
  uint64_t commits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t commit_failures_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t committed_writes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t wal_frames_ ABSL_GUARDED_BY(mu_) = 0;
  Histogram commit_latency_ ABSL_GUARDED_BY(mu_);
  int event_streams_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<Labels, int64_t> open_connections_ ABSL_GUARDED_BY(mu_);
  std::map<Labels, uint64_t> line_calls_ ABSL_GUARDED_BY(mu_);
  std::map<Labels, Histogram> line_call_latency_ ABSL_GUARDED_BY(mu_);
  // By outcome (evicted, refused, timed_out), then labels.
  std::map<std::string, std::map<Labels, uint64_t>, std::less<>> shed_connections_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BASE_METRICS_H_
