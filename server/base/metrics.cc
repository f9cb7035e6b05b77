#include "server/base/metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace linechannel::server {
namespace {

// Label values are method names, codes and ids: escape what the text format requires anyway.
std::string Escape(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Header(std::string& out, absl::string_view name, absl::string_view type,
            absl::string_view help) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
}

void Sample(std::string& out, absl::string_view name, absl::string_view labels, double value) {
  absl::StrAppend(&out, name, labels.empty() ? "" : absl::StrCat("{", labels, "}"), " ",
                  absl::StrFormat("%.17g", value), "\n");
}

// One metric without labels: its header and its value.
void Single(std::string& out, absl::string_view name, absl::string_view type,
            absl::string_view help, double value) {
  Header(out, name, type, help);
  Sample(out, name, "", value);
}

// One metric family: its header and a sample for each label set counted so far.
template <typename CountsByLabels>
void Family(std::string& out, absl::string_view name, absl::string_view type,
            absl::string_view help, const CountsByLabels& counts) {
  Header(out, name, type, help);
  for (const auto& [labels, n] : counts) Sample(out, name, labels, static_cast<double>(n));
}

}  // namespace

size_t Metrics::BucketOf(absl::Duration d) {
  const double seconds = absl::ToDoubleSeconds(d);
  size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  return i;
}

void Metrics::Histogram::Add(absl::Duration d) {
  ++counts[BucketOf(d)];
  sum += absl::ToDoubleSeconds(d);
  ++count;
}

Metrics::RpcMethodStats& Metrics::RpcStatsFor(absl::string_view method) {
  {
    absl::ReaderMutexLock lock(&rpc_mu_);
    if (const auto it = rpc_.find(method); it != rpc_.end()) return *it->second;
  }
  absl::MutexLock lock(&rpc_mu_);
  std::unique_ptr<RpcMethodStats>& stats = rpc_[method];
  if (stats == nullptr) stats = std::make_unique<RpcMethodStats>();
  return *stats;
}

void Metrics::RecordRpc(absl::string_view method, absl::StatusCode code, absl::Duration latency) {
  RpcMethodStats& stats = RpcStatsFor(method);
  int index = static_cast<int>(code);
  // A code outside gRPC's range is counted as UNKNOWN, as gRPC would send it.
  if (index < 0 || index >= RpcMethodStats::kCodes) {
    index = static_cast<int>(absl::StatusCode::kUnknown);
  }
  stats.by_code[index].fetch_add(1, std::memory_order_relaxed);
  stats.latency_buckets[BucketOf(latency)].fetch_add(1, std::memory_order_relaxed);
  stats.latency_sum_nanos.fetch_add(absl::ToInt64Nanoseconds(latency), std::memory_order_relaxed);
}

void Metrics::RecordWebhook(int http_status, absl::Duration latency) {
  absl::MutexLock lock(&mu_);
  ++webhook_requests_[absl::StrCat("status=\"", http_status, "\"")];
  webhook_latency_.Add(latency);
}

void Metrics::RecordEvents(int stored, int duplicates) {
  absl::MutexLock lock(&mu_);
  events_stored_ += static_cast<uint64_t>(stored);
  events_duplicate_ += static_cast<uint64_t>(duplicates);
}

void Metrics::RecordBadSignature(absl::string_view binding_id) {
  const std::string labels = absl::StrCat("binding_id=\"", Escape(binding_id), "\"");
  absl::MutexLock lock(&mu_);
  ++bad_signatures_[labels];
}

void Metrics::RecordLineCall(absl::string_view call, absl::string_view result,
                             absl::Duration latency) {
  const std::string call_label = absl::StrCat("call=\"", Escape(call), "\"");
  const std::string labels = absl::StrCat(call_label, ",result=\"", Escape(result), "\"");
  absl::MutexLock lock(&mu_);
  ++line_calls_[labels];
  line_call_latency_[call_label].Add(latency);
}

void Metrics::RecordCommit(absl::Duration latency, int writes, bool ok) {
  absl::MutexLock lock(&mu_);
  if (!ok) {
    ++commit_failures_;
    return;
  }
  ++commits_;
  committed_writes_ += static_cast<uint64_t>(writes);
  commit_latency_.Add(latency);
}

void Metrics::RecordWalFrames(int64_t frames) {
  absl::MutexLock lock(&mu_);
  wal_frames_ += static_cast<uint64_t>(frames);
}

void Metrics::SetEventStreams(int open) {
  absl::MutexLock lock(&mu_);
  event_streams_ = open;
}

void Metrics::RecordConnection(absl::string_view server, absl::string_view outcome,
                               absl::string_view reason) {
  const std::string by_server = absl::StrCat("server=\"", Escape(server), "\"");
  absl::MutexLock lock(&mu_);
  if (outcome == "opened") {
    ++open_connections_[by_server];
  } else if (outcome == "closed") {
    --open_connections_[by_server];
  } else {
    ++shed_connections_[std::string(outcome)]
                       [absl::StrCat(by_server, ",reason=\"", Escape(reason), "\"")];
  }
}

std::string Metrics::RenderPrometheus() const {
  std::string out;
  const auto histogram = [&out](absl::string_view name, absl::string_view labels,
                                const Histogram& h) {
    uint64_t cumulative = 0;
    const std::string prefix = labels.empty() ? "" : absl::StrCat(labels, ",");
    for (size_t i = 0; i <= kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      const std::string le =
          i < kBuckets.size() ? absl::StrFormat("%g", kBuckets[i]) : std::string("+Inf");
      Sample(out, absl::StrCat(name, "_bucket"), absl::StrCat(prefix, "le=\"", le, "\""),
             static_cast<double>(cumulative));
    }
    Sample(out, absl::StrCat(name, "_sum"), labels, h.sum);
    Sample(out, absl::StrCat(name, "_count"), labels, static_cast<double>(h.count));
  };

  {
    // In the order of their labels, as the other families: copied out of the atomics first.
    std::map<Labels, uint64_t> rpc_requests;
    std::map<Labels, Histogram> rpc_latency;
    {
      absl::ReaderMutexLock lock(&rpc_mu_);
      for (const auto& [method, stats] : rpc_) {
        const std::string by_method = absl::StrCat("method=\"", Escape(method), "\"");
        for (int code = 0; code < RpcMethodStats::kCodes; ++code) {
          const uint64_t n = stats->by_code[code].load(std::memory_order_relaxed);
          if (n == 0) continue;
          rpc_requests[absl::StrCat(by_method, ",code=\"",
                                    absl::StatusCodeToString(static_cast<absl::StatusCode>(code)),
                                    "\"")] = n;
        }
        Histogram& h = rpc_latency[by_method];
        for (size_t i = 0; i < h.counts.size(); ++i) {
          h.counts[i] = stats->latency_buckets[i].load(std::memory_order_relaxed);
          h.count += h.counts[i];
        }
        h.sum = static_cast<double>(stats->latency_sum_nanos.load(std::memory_order_relaxed)) / 1e9;
      }
    }
    Family(out, "channeld_rpc_requests_total", "counter", "gRPC requests by method and code.",
           rpc_requests);
    Header(out, "channeld_rpc_latency_seconds", "histogram", "gRPC request latency by method.");
    for (const auto& [labels, h] : rpc_latency) {
      histogram("channeld_rpc_latency_seconds", labels, h);
    }
  }
  absl::MutexLock lock(&mu_);
  Family(out, "channeld_webhook_requests_total", "counter", "Webhook requests by HTTP status.",
         webhook_requests_);
  Header(out, "channeld_webhook_latency_seconds", "histogram", "Webhook request latency.");
  histogram("channeld_webhook_latency_seconds", "", webhook_latency_);
  Single(out, "channeld_events_stored_total", "counter", "Webhook events stored.",
         static_cast<double>(events_stored_));
  Single(out, "channeld_events_duplicate_total", "counter",
         "Webhook events skipped because their webhookEventId was already stored.",
         static_cast<double>(events_duplicate_));
  Family(out, "channeld_webhook_bad_signatures_total", "counter",
         "Webhook requests refused for a missing or wrong signature, by binding.", bad_signatures_);
  Single(out, "channeld_store_commits_total", "counter",
         "Store transactions made durable (one fsync each).", static_cast<double>(commits_));
  Single(out, "channeld_store_commit_failures_total", "counter",
         "Store transactions that failed to commit.", static_cast<double>(commit_failures_));
  Single(out, "channeld_store_committed_writes_total", "counter",
         "Writes carried by committed transactions (writes per commit shows group commit).",
         static_cast<double>(committed_writes_));
  Single(out, "channeld_store_wal_frames_total", "counter",
         "Pages committed transactions wrote to SQLite's write-ahead log (frames per commit "
         "shows the write amplification; 0 on PostgreSQL).",
         static_cast<double>(wal_frames_));
  Header(out, "channeld_store_commit_latency_seconds", "histogram",
         "Time to run and commit one store transaction.");
  histogram("channeld_store_commit_latency_seconds", "", commit_latency_);
  Single(out, "channeld_event_streams", "gauge", "Open StreamEvents calls.", event_streams_);
  Family(out, "channeld_line_calls_total", "counter",
         "Calls to LINE's Messaging API (replies, push attempts, profiles, content, ...), by "
         "call and result.",
         line_calls_);
  Header(out, "channeld_line_call_latency_seconds", "histogram",
         "Time LINE took to answer one Messaging API call (content: the whole download).");
  for (const auto& [labels, h] : line_call_latency_) {
    histogram("channeld_line_call_latency_seconds", labels, h);
  }
  Family(out, "channeld_http_connections", "gauge",
         "Open HTTP connections, by server (webhook, admin).", open_connections_);
  static constexpr std::pair<absl::string_view, absl::string_view> kShed[] = {
      {"evicted",
       "HTTP connections closed to make room for a newcomer when full, by server and reason "
       "(idle: between requests; incomplete: its request arriving too slowly)."},
      {"refused",
       "HTTP connections refused, by server and reason (full: 503, every connection had a "
       "request being handled; no_descriptors: accept found no file descriptor free)."},
      {"timed_out",
       "HTTP connections cut by a deadline, by server and reason (header, body, idle)."},
  };
  static const std::map<Labels, uint64_t> kNone;
  for (const auto& [outcome, help] : kShed) {
    const auto it = shed_connections_.find(outcome);
    Family(out, absl::StrCat("channeld_http_connections_", outcome, "_total"), "counter", help,
           it == shed_connections_.end() ? kNone : it->second);
  }
  return out;
}

}  // namespace linechannel::server
