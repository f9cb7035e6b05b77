#include "server/server_config.h"

#include <algorithm>

namespace linechannel::server {
namespace {

// Sizes come from signed flags: a negative value arrives here as a huge size_t and fails the
// upper bound, so one check covers both ends.
bool InRange(size_t value, size_t low, size_t high) { return value >= low && value <= high; }

}  // namespace

absl::Status ValidateServerConfig(const ServerConfig& config) {
  if (!InRange(config.grpc_max_message_bytes, 4096, size_t{64} << 20)) {
    return absl::InvalidArgumentError("--grpc_max_message_bytes must be 4 KiB to 64 MiB");
  }
  if (config.max_event_streams < 1 || config.webhook_max_connections < 1) {
    return absl::InvalidArgumentError(
        "--max_event_streams and --webhook_max_connections must be at least 1");
  }
  if (config.webhook_tls_cert_file.empty() != config.webhook_tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "give both --webhook_tls_cert_file and --webhook_tls_key_file, or neither");
  }
  if (config.binding_cache_size > 10'000'000) {
    return absl::InvalidArgumentError("--binding_cache_size must be 0 to 10,000,000");
  }
  if (config.line_test_calls_per_hour < 0 || config.line_test_calls_per_hour > 60) {
    return absl::InvalidArgumentError(
        "--line_test_calls_per_hour must be 0 to 60 (LINE allows 60 per hour per channel)");
  }
  if (config.recheck_interval < absl::ZeroDuration() ||
      config.recheck_interval > absl::Hours(24 * 7) || !(config.recheck_per_second > 0) ||
      config.recheck_per_second > 50) {
    return absl::InvalidArgumentError(
        "--recheck_interval must be 0 (off) to 168h and --recheck_per_second must be in (0, 50]");
  }
  if (config.recheck_unverified_first <= absl::ZeroDuration() ||
      config.recheck_unverified_max < config.recheck_unverified_first ||
      config.recheck_unverified_max > absl::Hours(24)) {
    return absl::InvalidArgumentError(
        "--recheck_unverified_first must be above 0, and --recheck_unverified_max at least "
        "--recheck_unverified_first and at most 24h");
  }
  if (!InRange(config.webhook_max_body_bytes, 1024, size_t{1} << 30)) {
    return absl::InvalidArgumentError("--webhook_max_body_bytes must be 1 KiB to 1 GiB");
  }
  for (const absl::Duration timeout :
       {config.webhook_header_timeout, config.webhook_body_timeout, config.webhook_idle_timeout,
        config.webhook_busy_idle_timeout, config.grpc_handshake_timeout,
        config.grpc_max_connection_idle}) {
    if (timeout <= absl::ZeroDuration() || timeout > absl::Hours(24)) {
      return absl::InvalidArgumentError(
          "--webhook_*_timeout, --grpc_handshake_timeout and --grpc_max_connection_idle must be "
          "above 0 and at most 24h");
    }
  }
  if (config.webhook_threads < 1) {
    return absl::InvalidArgumentError("--webhook_threads must be at least 1");
  }
  if (config.event_retention < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--event_retention must not be negative");
  }
  if (config.outbound_per_binding_per_second < 0 || config.outbound_per_binding_in_flight < 1 ||
      config.push_retry_threads < 1) {
    return absl::InvalidArgumentError(
        "--outbound_per_binding_per_second must not be negative, and "
        "--outbound_per_binding_in_flight and --push_retry_threads must be at least 1");
  }
  if (config.push_lease <= config.line_timeout + absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        "--push_lease must be longer than --line_timeout by more than a second, so a push is "
        "never attempted by two senders at once");
  }
  if (config.push_retention < absl::Hours(24)) {
    return absl::InvalidArgumentError(
        "--push_retention must be at least 24h: LINE remembers a retry key for 24 hours, and a "
        "repeat must find its push until then");
  }
  const int page = config.sqlite_page_size;
  if (page != 0 && (page < 512 || page > 65536 || (page & (page - 1)) != 0)) {
    return absl::InvalidArgumentError(
        "--sqlite_page_size must be 0 (SQLite's default) or a power of two from 512 to 65536");
  }
  if (config.sqlite_checkpoint_pages < 0) {
    return absl::InvalidArgumentError(
        "--sqlite_checkpoint_pages must not be negative (0: SQLite checkpoints inside commits)");
  }
  if (config.sqlite_commit_linger < absl::ZeroDuration() ||
      config.sqlite_commit_linger > absl::Milliseconds(100)) {
    return absl::InvalidArgumentError(
        "--sqlite_commit_linger must be from 0 (commit at once) to 100ms: every write it holds "
        "back waits up to that long for its answer");
  }
  if (config.rpc_workers < 1 || config.rpc_queue < 1) {
    return absl::InvalidArgumentError("--rpc_workers and --rpc_queue must be at least 1");
  }
  return absl::OkStatus();
}

int WebhookConnectionsThatFit(int asked, int64_t open_files) {
  if (open_files < 0 || int64_t{asked} + kReservedDescriptors <= open_files) return asked;
  if (open_files > 2 * kReservedDescriptors) {
    return static_cast<int>(open_files - kReservedDescriptors);
  }
  return static_cast<int>(std::max<int64_t>(1, open_files / 2));
}

}  // namespace linechannel::server
