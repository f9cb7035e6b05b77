#include "server/channeld_main.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/base/env_flags.h"
#include "server/base/logger.h"
#include "server/channel_server.h"
#include "server/crypto/random_source.h"
#include "server/grpc/callers.h"

ABSL_FLAG(std::string, grpc_listen, "127.0.0.1:50051", "Address for the gRPC API (port 0: any).");
ABSL_FLAG(std::string, webhook_listen, "127.0.0.1:8080",
          "Address for LINE's webhook calls (port 0: any).");
ABSL_FLAG(std::string, admin_listen, "127.0.0.1:9090",
          "Address for GET /metrics and /healthz (empty: off). Keep it private.");
ABSL_FLAG(std::string, database_url, "",
          "PostgreSQL connection URI (postgresql://user@host/db); several replicas may share "
          "it. Empty: the embedded SQLite database in --data_dir.");
ABSL_FLAG(std::string, data_dir, "./data",
          "Directory for the database and, by default, the key file.");
ABSL_FLAG(std::string, callers_file, "",
          "Callers file (default <data_dir>/callers; created on first start with one admin "
          "caller whose token goes to <data_dir>/admin.token). Re-read on SIGHUP.");
ABSL_FLAG(std::string, caller_name, "", "add-caller: the new caller's name.");
ABSL_FLAG(std::string, caller_teams, "",
          "add-caller: the teams it may act for, comma-separated, or * for all (admin).");
ABSL_FLAG(std::string, grpc_tls_cert_file, "", "TLS certificate chain (PEM) for the gRPC port.");
ABSL_FLAG(std::string, grpc_tls_key_file, "", "TLS private key (PEM) for the gRPC port.");
ABSL_FLAG(std::string, grpc_tls_client_ca_file, "",
          "Require gRPC callers to present a certificate signed by this CA (PEM).");
ABSL_FLAG(std::string, webhook_tls_cert_file, "",
          "TLS certificate chain (PEM) for the webhook port (LINE needs HTTPS; or terminate TLS "
          "at a proxy).");
ABSL_FLAG(std::string, webhook_tls_key_file, "", "TLS private key (PEM) for the webhook port.");
ABSL_FLAG(int64_t, grpc_max_message_bytes, 1 << 20, "Largest gRPC request accepted.");
ABSL_FLAG(int, max_event_streams, 256,
          "StreamEvents calls open at once before new ones are refused.");
ABSL_FLAG(int, webhook_max_connections, 50000,
          "Open webhook connections at most; a newcomer beyond it evicts the connection idle "
          "longest, else the one whose request has been arriving longest (503 only if every "
          "connection has a request being handled). Lowered at start if the open-file limit "
          "cannot hold it.");
ABSL_FLAG(
    std::string, public_base_url, "",
    "Start of webhook URLs, e.g. https://line.example.com (default http://<webhook_listen>).");
ABSL_FLAG(std::string, line_api_base_url, "https://api.line.me",
          "LINE's API; point it at the fake LINE platform in tests.");
ABSL_FLAG(std::string, line_ca_file, "", "CA bundle for LINE's API (default: the system's).");
ABSL_FLAG(absl::Duration, line_timeout, absl::Seconds(10), "Longest wait for one call to LINE.");
ABSL_FLAG(std::string, line_data_base_url, "",
          "LINE's data host for message content (default: https://api-data.line.me with LINE's "
          "own API host, else --line_api_base_url).");
ABSL_FLAG(double, outbound_per_binding_per_second, 100,
          "Calls to LINE's Messaging API per second per binding (0: no limit).");
ABSL_FLAG(int, outbound_per_binding_in_flight, 16,
          "Calls to LINE's Messaging API of one binding waiting for LINE at once.");
ABSL_FLAG(int, push_retry_threads, 2, "Threads retrying pushes LINE has not accepted yet.");
ABSL_FLAG(absl::Duration, push_lease, absl::Seconds(30),
          "How long one push attempt holds its push (longer than --line_timeout).");
ABSL_FLAG(absl::Duration, push_retention, absl::Hours(24 * 7),
          "How long ended pushes are kept for GetPush and repeats (at least 24h).");
ABSL_FLAG(std::string, key_file, "",
          "Sealing key file (default <data_dir>/sealing.key; created on first start).");
ABSL_FLAG(std::string, line_checks, "required",
          "How binding checks with LINE: required, best_effort (bind unverified when LINE is "
          "unreachable) or off (never ask LINE).");
ABSL_FLAG(int, rpc_workers, 32, "Threads for RPC work that may block.");
ABSL_FLAG(int, rpc_queue, 1024, "RPCs that may wait for a worker before new ones are refused.");
ABSL_FLAG(int, webhook_threads, 2, "Threads serving the webhook endpoint.");
ABSL_FLAG(int64_t, webhook_max_body_bytes, 1 << 20,
          "Webhook bodies above this are refused with 413.");
ABSL_FLAG(absl::Duration, webhook_header_timeout, absl::Seconds(3),
          "A webhook request's headers (and TLS handshake) must arrive within this of its first "
          "byte; LINE gives up after about 2 s.");
ABSL_FLAG(absl::Duration, webhook_body_timeout, absl::Seconds(3),
          "A webhook request's body must arrive within this after its headers.");
ABSL_FLAG(absl::Duration, webhook_idle_timeout, absl::Seconds(60),
          "How long a kept-alive webhook connection may wait for its next request.");
ABSL_FLAG(absl::Duration, webhook_busy_idle_timeout, absl::Seconds(2),
          "The same wait while half of --webhook_max_connections or more are open.");
ABSL_FLAG(absl::Duration, grpc_handshake_timeout, absl::Seconds(5),
          "gRPC connections must finish their TLS and HTTP/2 handshake within this.");
ABSL_FLAG(absl::Duration, grpc_max_connection_idle, absl::Minutes(5),
          "gRPC connections with no call open this long are closed (clients reconnect).");
ABSL_FLAG(absl::Duration, event_retention, absl::Hours(24 * 30),
          "How long webhook events are kept (0 keeps them forever).");
ABSL_FLAG(int, line_test_calls_per_hour, 50,
          "LINE test-webhook calls VerifyWebhook may make per channel per hour (LINE allows "
          "60; keep some for people pressing Verify in LINE Developers).");
ABSL_FLAG(absl::Duration, recheck_interval, absl::Hours(6),
          "Re-check every binding with LINE this often (token, URL, \"Use webhook\"), each at "
          "its own moment in the interval; 0 turns the re-check off, retries of unverified "
          "bindings included.");
ABSL_FLAG(double, recheck_per_second, 2,
          "Bindings re-checked per second at most (by all replicas together).");
ABSL_FLAG(absl::Duration, recheck_unverified_first, absl::Seconds(30),
          "How soon after binding an unverified binding (LINE was unreachable) is proved with "
          "LINE again; the wait doubles while LINE stays unreachable.");
ABSL_FLAG(absl::Duration, recheck_unverified_max, absl::Minutes(5),
          "The longest wait between tries to prove an unverified binding.");
ABSL_FLAG(absl::Duration, store_busy_timeout, absl::Seconds(5),
          "How long a database write waits for a lock held by another process.");
// Both measured with tools/bench/run --ingest (issue 15): a 4 KiB page holds five ~800-byte
// event rows where a 2 KiB page holds two, while every commit writes the few pages it rewrites
// (the events' newest leaf and those above it, page 1) whole. A long log lets
// a checkpoint copy a page that many commits changed once; at 4 KiB pages 64 MiB of it raised
// both ingest rows' p99 over 32 MiB's. Since the checkpointer syncs its own rounds, 16 MiB
// keeps each round's sync short enough not to hold up the commits' syncs for long: 20-event p99
// 17.8-19.6 ms against 22.7-25.8 ms at 32 MiB (three interleaved rounds), as many requests
// per second and the same bytes per event; 8 MiB gave the same p99 at a lower rate.
ABSL_FLAG(int, sqlite_page_size, 4096,
          "Page size of a new SQLite database file, in bytes (a power of two, 512 to 65536); an "
          "existing file keeps its own. 0: SQLite's default (4096).");
ABSL_FLAG(int, sqlite_checkpoint_pages, 4000,
          "Copy SQLite's write-ahead log back into the database file, on a thread of its own, "
          "once it holds this many pages (0: SQLite's own checkpoint, inside the commit that "
          "crosses 1000 pages).");
ABSL_FLAG(absl::Duration, sqlite_commit_linger, absl::Milliseconds(2),
          "Longest the SQLite store's commit thread holds a commit back for more writes, when "
          "fewer are queued than three quarters of its recent commits carried and it has had "
          "time to spare (it waited for writes in 15% or more of its recent commits' time): "
          "fewer, fuller commits between bursts (0: commit what is queued at once).");
ABSL_FLAG(int64_t, binding_cache_size, 100000,
          "Active bindings kept in memory so hot reads skip the database (0: off).");
ABSL_FLAG(bool, enable_test_hooks, false,
          "Tests only: lets the admin port inject storage faults. Only channeld_test_hooks, the "
          "test build, has them; channeld refuses the flag.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "How long running requests may finish after SIGTERM.");

namespace linechannel::server {
namespace {

// Every connection is a descriptor: raises the soft open-file limit to the hard limit, says in
// the log what was set, and returns the soft limit in force (-1 if unlimited).
int64_t RaiseFileLimit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return -1;
  const rlim_t before = files.rlim_cur;
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &files) != 0) getrlimit(RLIMIT_NOFILE, &files);
  }
  const auto number = [](rlim_t limit) {
    return limit == RLIM_INFINITY ? int64_t{-1} : static_cast<int64_t>(limit);
  };
  LogLine(LogLevel::kInfo, "file_limit")
      .With("open_files", number(files.rlim_cur))
      .With("was", number(before))
      .With("hard_limit", number(files.rlim_max))
      .With("message", files.rlim_cur > before
                           ? "raised the open-file limit to the hard limit"
                           : "the open-file limit is already the hard limit (-1: unlimited)");
  return number(files.rlim_cur);
}

int Fail(const absl::Status& status) {
  LogLine(LogLevel::kError, "start_failed").WithStatus(status);
  std::cerr << "channeld: " << status.message() << "\n";
  return 1;
}

// The flags as a ServerConfig; only --line_checks can fail here (an unknown word). Sizes are
// taken as given, so that ValidateServerConfig sees (and refuses) negative ones.
absl::StatusOr<ServerConfig> ConfigFromFlags() {
  ServerConfig config;
  config.grpc_listen = absl::GetFlag(FLAGS_grpc_listen);
  config.webhook_listen = absl::GetFlag(FLAGS_webhook_listen);
  config.admin_listen = absl::GetFlag(FLAGS_admin_listen);
  config.data_dir = absl::GetFlag(FLAGS_data_dir);
  config.database_url = absl::GetFlag(FLAGS_database_url);
  config.callers_file = absl::GetFlag(FLAGS_callers_file);
  config.grpc_tls_cert_file = absl::GetFlag(FLAGS_grpc_tls_cert_file);
  config.grpc_tls_key_file = absl::GetFlag(FLAGS_grpc_tls_key_file);
  config.grpc_tls_client_ca_file = absl::GetFlag(FLAGS_grpc_tls_client_ca_file);
  config.webhook_tls_cert_file = absl::GetFlag(FLAGS_webhook_tls_cert_file);
  config.webhook_tls_key_file = absl::GetFlag(FLAGS_webhook_tls_key_file);
  config.max_event_streams = absl::GetFlag(FLAGS_max_event_streams);
  config.webhook_max_connections = absl::GetFlag(FLAGS_webhook_max_connections);
  config.grpc_max_message_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_grpc_max_message_bytes));
  config.public_base_url = absl::GetFlag(FLAGS_public_base_url);
  config.line_api_base_url = absl::GetFlag(FLAGS_line_api_base_url);
  config.line_ca_file = absl::GetFlag(FLAGS_line_ca_file);
  config.line_timeout = absl::GetFlag(FLAGS_line_timeout);
  config.line_data_base_url = absl::GetFlag(FLAGS_line_data_base_url);
  config.outbound_per_binding_per_second = absl::GetFlag(FLAGS_outbound_per_binding_per_second);
  config.outbound_per_binding_in_flight = absl::GetFlag(FLAGS_outbound_per_binding_in_flight);
  config.push_retry_threads = absl::GetFlag(FLAGS_push_retry_threads);
  config.push_lease = absl::GetFlag(FLAGS_push_lease);
  config.push_retention = absl::GetFlag(FLAGS_push_retention);
  config.key_file = absl::GetFlag(FLAGS_key_file);
  config.rpc_workers = absl::GetFlag(FLAGS_rpc_workers);
  config.rpc_queue = absl::GetFlag(FLAGS_rpc_queue);
  config.webhook_threads = absl::GetFlag(FLAGS_webhook_threads);
  config.webhook_max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_webhook_max_body_bytes));
  config.webhook_header_timeout = absl::GetFlag(FLAGS_webhook_header_timeout);
  config.webhook_body_timeout = absl::GetFlag(FLAGS_webhook_body_timeout);
  config.webhook_idle_timeout = absl::GetFlag(FLAGS_webhook_idle_timeout);
  config.webhook_busy_idle_timeout = absl::GetFlag(FLAGS_webhook_busy_idle_timeout);
  config.grpc_handshake_timeout = absl::GetFlag(FLAGS_grpc_handshake_timeout);
  config.grpc_max_connection_idle = absl::GetFlag(FLAGS_grpc_max_connection_idle);
  config.event_retention = absl::GetFlag(FLAGS_event_retention);
  config.store_busy_timeout = absl::GetFlag(FLAGS_store_busy_timeout);
  config.sqlite_commit_linger = absl::GetFlag(FLAGS_sqlite_commit_linger);
  config.sqlite_page_size = absl::GetFlag(FLAGS_sqlite_page_size);
  config.sqlite_checkpoint_pages = absl::GetFlag(FLAGS_sqlite_checkpoint_pages);
  config.binding_cache_size = static_cast<size_t>(absl::GetFlag(FLAGS_binding_cache_size));
  config.line_test_calls_per_hour = absl::GetFlag(FLAGS_line_test_calls_per_hour);
  config.recheck_interval = absl::GetFlag(FLAGS_recheck_interval);
  config.recheck_per_second = absl::GetFlag(FLAGS_recheck_per_second);
  config.recheck_unverified_first = absl::GetFlag(FLAGS_recheck_unverified_first);
  config.recheck_unverified_max = absl::GetFlag(FLAGS_recheck_unverified_max);
  absl::StatusOr<LineChecks> checks = ParseLineChecks(absl::GetFlag(FLAGS_line_checks));
  if (!checks.ok()) return checks.status();
  config.line_checks = *checks;
  return config;
}

// `channeld add-caller`: adds a caller to the callers file and prints its token once.
int AddCaller() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  std::string path = absl::GetFlag(FLAGS_callers_file);
  if (path.empty()) path = data_dir + "/callers";
  const std::string name = absl::GetFlag(FLAGS_caller_name);
  const std::string teams = absl::GetFlag(FLAGS_caller_teams);
  if (name.empty() || teams.empty()) {
    std::cerr << "channeld add-caller needs --caller_name and --caller_teams (team,team or *)\n";
    return 2;
  }
  OpenSslRandom random;
  absl::StatusOr<NewCaller> caller = MakeCaller(name, teams, random);
  if (!caller.ok()) return Fail(caller.status());
  if (absl::Status added = AppendCaller(path, *caller, name); !added.ok()) {
    return Fail(added);
  }
  std::cerr << "added caller " << name << " to " << path
            << "; a running channeld picks it up on SIGHUP. Its token (shown once):\n";
  std::cout << caller->token << std::endl;
  return 0;
}

// Blocks the signals channeld stops (and reloads) on, in this thread and so in every thread
// started later, and returns them for sigwait: they are taken there, never by a handler on some
// random thread. Ignores SIGPIPE.
sigset_t BlockStopSignals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return stop_signals;
}

// Lowers --webhook_max_connections to what `open_files` can hold, saying so in the log.
void FitWebhookConnections(int64_t open_files, ServerConfig& config) {
  const int fits = WebhookConnectionsThatFit(config.webhook_max_connections, open_files);
  if (fits == config.webhook_max_connections) return;
  LogLine(LogLevel::kWarning, "config")
      .With("webhook_max_connections", fits)
      .With("asked", config.webhook_max_connections)
      .With("open_files", open_files)
      .With("message",
            "lowered --webhook_max_connections to what the open-file limit leaves after "
            "descriptors kept for gRPC, the database and LINE; raise the hard limit "
            "(ulimit -Hn, LimitNOFILE=) to allow more");
  config.webhook_max_connections = fits;
}

// The admin routes of the test hooks if --enable_test_hooks asks for them (after installing
// them), else null. FAILED_PRECONDITION when asked for in a build without them.
absl::StatusOr<AdminRoutes*> TestHooks(const ServerAdditions& additions) {
  if (!absl::GetFlag(FLAGS_enable_test_hooks)) return nullptr;
  if (!additions.install_test_hooks) {
    return absl::FailedPreconditionError(
        "--enable_test_hooks: this channeld is the production build and has no test hooks; "
        "tests run channeld_test_hooks");
  }
  additions.install_test_hooks();
  LogLine(LogLevel::kWarning, "test_hooks_on")
      .With("message",
            "test hooks are on: storage faults can be injected through the admin "
            "port. Never run production like this.");
  return additions.test_admin_routes;
}

// Writes the ready line and serves until SIGTERM or SIGINT, re-reading the callers on SIGHUP;
// then shuts the server down.
void ServeUntilStopped(ChannelServer& server, const ServerConfig& config,
                       const sigset_t& stop_signals) {
  LogLine(LogLevel::kInfo, "started")
      .With("grpc", server.grpc_address())
      .With("webhook", server.webhook_address())
      .With("admin", server.admin_address())
      .With("public_base_url", server.public_base_url())
      .With("data_dir", config.data_dir)
      // Which store, never the URL: it may carry a password.
      .With("store", config.database_url.empty() ? "sqlite" : "postgresql")
      .With("line_api", config.line_api_base_url)
      .With("line_checks", absl::GetFlag(FLAGS_line_checks));
  // The one line on stdout: scripts and tests wait for it, and may then read the log.
  FlushLog();
  std::cout << "channeld ready grpc=" << server.grpc_address()
            << " webhook=" << server.webhook_address()
            << (server.admin_address().empty() ? "" : " admin=") << server.admin_address()
            << std::endl;

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) == 0 && signal_number == SIGHUP) {
    const absl::Status reloaded = server.ReloadCallers();
    LogLine(reloaded.ok() ? LogLevel::kInfo : LogLevel::kError, "callers_reloaded")
        .WithStatus(reloaded);
  }
  LogLine(LogLevel::kInfo, "stopping")
      .With("signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  server.Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  LogLine(LogLevel::kInfo, "stopped");
}

}  // namespace

int ChanneldMain(int argc, char** argv, const ServerAdditions& additions) {
  // Debian's Abseil is built with its debug checks, so every Mutex lock would also update a
  // global lock-order graph (a few percent of the CPU of a push or a webhook). The unit tests
  // keep the check; the server does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(
      "The LINE channel-binding service. Every flag can also be set with an environment "
      "variable CHANNELD_<FLAG NAME IN CAPITALS>; the command line wins.");
  if (absl::Status env = ApplyEnvironmentToFlags("CHANNELD_", "server/"); !env.ok()) {
    return Fail(env);
  }
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() > 1) {
    if (positional.size() == 2 && std::string(positional[1]) == "add-caller") return AddCaller();
    std::cerr << "channeld: unknown command \"" << positional[1]
              << "\" (the only command is add-caller; --help lists the flags)\n";
    return 2;
  }

  // Before any thread starts, so every thread inherits the mask.
  const sigset_t stop_signals = BlockStopSignals();
  // Started after the signals are blocked, so its thread never takes one. Outlives the server:
  // whatever the server logs while it stops is written.
  const LogBatching log_batching;
  // Everything channeld creates (database, WAL, key file) is private to its user.
  umask(077);
  const int64_t open_files = RaiseFileLimit();

  absl::StatusOr<ServerConfig> config = ConfigFromFlags();
  if (!config.ok()) return Fail(config.status());
  if (absl::Status valid = ValidateServerConfig(*config); !valid.ok()) return Fail(valid);
  FitWebhookConnections(open_files, *config);
  absl::StatusOr<AdminRoutes*> admin_routes = TestHooks(additions);
  if (!admin_routes.ok()) return Fail(admin_routes.status());

  absl::StatusOr<std::unique_ptr<ChannelServer>> server =
      ChannelServer::Start(*config, *admin_routes);
  if (!server.ok()) return Fail(server.status());
  ServeUntilStopped(**server, *config, stop_signals);
  return 0;
}

}  // namespace linechannel::server
