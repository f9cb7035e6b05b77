#ifndef LINECHANNEL_SERVER_SERVER_CONFIG_H_
#define LINECHANNEL_SERVER_SERVER_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/binding/binding_verifier.h"

namespace linechannel::server {

// Everything channeld is configured with; main.cc fills it from flags and checks it with
// ValidateServerConfig before starting.
struct ServerConfig {
  std::string grpc_listen = "127.0.0.1:50051";
  // Where the webhook endpoint listens; also the default public base URL's host.
  std::string webhook_listen = "127.0.0.1:8080";
  // Where /metrics and /healthz are served; empty turns the admin port off.
  std::string admin_listen = "127.0.0.1:9090";
  std::string data_dir = "./data";
  // A libpq URI (postgresql://...) selects the PostgreSQL store, shared by any number of
  // replicas; empty keeps the embedded SQLite store in `data_dir`.
  std::string database_url;
  // Webhook URLs start with this; empty means "http://" + the webhook listen address.
  std::string public_base_url;
  std::string line_api_base_url = "https://api.line.me";
  // CA bundle for LINE's API; empty for the system's.
  std::string line_ca_file;
  absl::Duration line_timeout = absl::Seconds(10);
  // LINE's data host, where message content is downloaded from. Empty: https://api-data.line.me
  // with LINE's own API host, else `line_api_base_url` (the fake LINE platform serves both).
  std::string line_data_base_url;
  // Each binding's share of calls to LINE (OutboundLimiter): calls per second (0: no rate
  // limit), and calls in flight at once.
  double outbound_per_binding_per_second = 100;
  int outbound_per_binding_in_flight = 16;
  // Threads that retry pushes LINE has not accepted yet.
  int push_retry_threads = 2;
  // How long an attempt holds its push before another sender may take it over (a process
  // that died mid-attempt); must be longer than `line_timeout`.
  absl::Duration push_lease = absl::Seconds(30);
  // How long ended pushes are kept for GetPush and repeats; pending ones are never deleted.
  absl::Duration push_retention = absl::Hours(24 * 7);
  // The sealing key file; empty means <data_dir>/sealing.key.
  std::string key_file;
  // The callers file; empty means <data_dir>/callers. Created on first start with one admin
  // caller whose token goes to <data_dir>/admin.token.
  std::string callers_file;
  LineChecks line_checks = LineChecks::kRequired;
  // Threads for RPC work that may block, and how much of it may wait.
  int rpc_workers = 32;
  int rpc_queue = 1024;
  size_t grpc_max_message_bytes = 1 << 20;
  int max_event_streams = 256;
  // gRPC connections that have not finished their HTTP/2 (and TLS) handshake within this are
  // closed; so are connections with no call open for `grpc_max_connection_idle`.
  absl::Duration grpc_handshake_timeout = absl::Seconds(5);
  absl::Duration grpc_max_connection_idle = absl::Minutes(5);

  // TLS for the gRPC port: certificate chain and key (PEM); with a client CA, callers must
  // also present a certificate it signed.
  std::string grpc_tls_cert_file;
  std::string grpc_tls_key_file;
  std::string grpc_tls_client_ca_file;

  // The webhook endpoint.
  int webhook_threads = 2;
  size_t webhook_max_body_bytes = 1 << 20;
  // See HttpServer::Options for what each means, and README for why the defaults.
  int webhook_max_connections = 50000;
  absl::Duration webhook_header_timeout = absl::Seconds(3);
  absl::Duration webhook_body_timeout = absl::Seconds(3);
  absl::Duration webhook_idle_timeout = absl::Seconds(60);
  absl::Duration webhook_busy_idle_timeout = absl::Seconds(2);
  std::string webhook_tls_cert_file;
  std::string webhook_tls_key_file;

  // LINE test-webhook calls per channel per hour VerifyWebhook may make (LINE allows 60).
  int line_test_calls_per_hour = 50;
  // How often every binding is re-checked with LINE (each at its own place in the interval);
  // zero turns the re-check off, the retries of unverified bindings included.
  absl::Duration recheck_interval = absl::Hours(6);
  double recheck_per_second = 2;
  // When an unverified binding is first proved again after binding, and the longest wait
  // between tries while LINE stays unreachable (PeriodicRecheck).
  absl::Duration recheck_unverified_first = absl::Seconds(30);
  absl::Duration recheck_unverified_max = absl::Minutes(5);
  // How long a database write waits for a lock another process holds before failing.
  absl::Duration store_busy_timeout = absl::Seconds(5);
  // The page size of a new SQLite file (0: SQLite's default), and the log size, in pages, at
  // which the store's checkpointer copies the log back into the file.
  int sqlite_page_size = 4096;
  int sqlite_checkpoint_pages = 4000;
  // How long the SQLite store's commit thread may hold a commit back for more writes.
  absl::Duration sqlite_commit_linger = absl::Milliseconds(2);
  // Active bindings kept in memory for reads (0 turns the cache off).
  size_t binding_cache_size = 100000;
  // How long events are kept; zero keeps them forever.
  absl::Duration event_retention = absl::Hours(24 * 30);
};

// Descriptors kept for everything but webhook connections: gRPC connections, the database,
// calls to LINE, the admin port.
inline constexpr int kReservedDescriptors = 1024;

// How many webhook connections fit in `open_files` descriptors (the process's soft limit, or a
// negative number for no limit) after kReservedDescriptors: `asked` when they fit, else what
// is left (at least 1), so that a flood makes webhook connections evict each other instead of
// taking the descriptors the database, LINE and gRPC need.
int WebhookConnectionsThatFit(int asked, int64_t open_files);

// OK, or INVALID_ARGUMENT naming the first setting (by its flag) that is out of range or
// inconsistent, with the range it must be in. Pure; thread-safe.
absl::Status ValidateServerConfig(const ServerConfig& config);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_SERVER_CONFIG_H_
