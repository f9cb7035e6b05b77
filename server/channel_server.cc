#include "server/channel_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <atomic>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/http/admin_handler.h"
#include "server/binding/binding_service.h"
#include "server/grpc/callers.h"
#include "server/base/clock.h"
#include "server/line/curl_line_api.h"
#include "server/messaging/outbound_limiter.h"
#include "server/messaging/outbound_service.h"
#include "server/messaging/push_sender.h"
#include "server/base/data_dir.h"
#include "server/webhook/event_notifier.h"
#include "server/webhook/event_retention.h"
#include "server/base/executor.h"
#include "server/grpc/grpc_admin_service.h"
#include "server/grpc/grpc_channel_service.h"
#include "server/grpc/reflection_descriptors.h"
#include "server/http/http_server.h"
#include "server/binding/key_rotation.h"
#include "server/base/logger.h"
#include "server/base/metrics.h"
#include "server/binding/periodic_recheck.h"
#include "server/crypto/private_file.h"
#include "server/crypto/random_source.h"
#include "server/grpc/rpc_gate.h"
#include "server/binding/sealing_keys.h"
#include "server/binding/line_webhook_settings.h"
#include "server/webhook/webhook_handler.h"
#include "server/webhook/webhook_receiver.h"
#include "storage/cache/caching_store.h"
#include "storage/postgres/postgres_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace linechannel::server {
namespace {

// Webhook keys are 32 characters: what is left of LINE's 500-character limit for the base.
constexpr size_t kMaxPublicBaseUrlLength = 500 - sizeof("/line/webhook/") + 1 - 32;

absl::Status CheckPublicBaseUrl(const std::string& url) {
  if (!absl::StartsWith(url, "https://") && !absl::StartsWith(url, "http://")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "public base URL \"", url, "\" must start with https:// (LINE requires HTTPS)"));
  }
  if (absl::EndsWith(url, "/") || url.find_first_of("?# ") != std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat(
        "public base URL \"", url, "\" must have no trailing '/', query, fragment or spaces"));
  }
  if (url.size() > kMaxPublicBaseUrlLength) {
    return absl::FailedPreconditionError(absl::StrCat(
        "public base URL is ", url.size(), " characters; at most ", kMaxPublicBaseUrlLength,
        " leave room for the webhook key within LINE's "
        "500-character limit"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> GrpcCredentials(
    const ServerConfig& config) {
  if (config.grpc_tls_cert_file.empty() != config.grpc_tls_key_file.empty()) {
    return absl::FailedPreconditionError(
        "give both --grpc_tls_cert_file and --grpc_tls_key_file, or neither");
  }
  if (config.grpc_tls_cert_file.empty()) {
    if (!config.grpc_tls_client_ca_file.empty()) {
      return absl::FailedPreconditionError(
          "--grpc_tls_client_ca_file needs --grpc_tls_cert_file and --grpc_tls_key_file");
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions options(
      config.grpc_tls_client_ca_file.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  for (const auto& [path, out] :
       {std::pair{config.grpc_tls_cert_file, &pair.cert_chain},
        std::pair{config.grpc_tls_key_file, &pair.private_key},
        std::pair{config.grpc_tls_client_ca_file, &options.pem_root_certs}}) {
    if (path.empty()) continue;
    absl::StatusOr<std::string> pem = ReadPrivateFile(path);
    if (!pem.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot read TLS file: ", pem.status().message()));
    }
    *out = *std::move(pem);
  }
  options.pem_key_cert_pairs.push_back(std::move(pair));
  return grpc::SslServerCredentials(options);
}

std::function<void(ConnectionEvent)> ConnectionMetrics(Metrics* metrics, const char* server) {
  return [metrics, server](ConnectionEvent event) {
    const ConnectionEventName name = NameOf(event);
    metrics->RecordConnection(server, name.outcome, name.reason);
  };
}

}  // namespace

// Declared in the order they start; destroyed in reverse. The HTTP servers outlive the store
// so that commits finishing during shutdown can still post their (unsent) answers to them.
struct ChannelServer::Parts {
  std::optional<DataDir> data_dir;
  RealClock clock;
  OpenSslRandom random;
  Metrics metrics;
  EventNotifier notifier;
  // In front of `store`, which it outlives: the store's last callbacks run through it.
  std::unique_ptr<storage::CachingStore> cache;
  std::unique_ptr<WebhookReceiver> receiver;
  std::unique_ptr<WebhookHandler> webhook_handler;
  std::unique_ptr<HttpServer> webhook_server;
  std::unique_ptr<AdminHandler> admin_handler;
  // Extra admin routes (channeld_test_hooks'); not owned, may be null.
  AdminRoutes* admin_routes = nullptr;
  std::unique_ptr<HttpServer> admin_server;
  // One of the two is open: SQLite in the data directory, or PostgreSQL shared by replicas.
  std::unique_ptr<storage::SqliteStore> sqlite;
  std::unique_ptr<storage::PostgresStore> postgres;
  // The store's roles, as every other part gets them.
  storage::Store roles;
  std::unique_ptr<EventRetention> retention;
  std::unique_ptr<SecretSealer> sealer;
  std::unique_ptr<KeyRotation> rotation;
  std::unique_ptr<CallerDirectory> callers;
  std::unique_ptr<CurlLineApi> line;
  std::unique_ptr<BindingVerifier> verifier;
  std::unique_ptr<LineWebhookSettings> checks;
  std::unique_ptr<BindingService> bindings;
  std::unique_ptr<BindingProof> proof;
  std::unique_ptr<PeriodicRecheck> recheck;
  std::unique_ptr<OutboundLimiter> limiter;
  std::unique_ptr<PushSender> push_sender;
  std::unique_ptr<OutboundService> outbound;
  std::unique_ptr<Executor> executor;
  std::unique_ptr<RpcGate> gate;
  std::unique_ptr<GrpcChannelService> channel_service;
  std::unique_ptr<GrpcAdminService> admin_service;
  std::unique_ptr<grpc::Server> grpc_server;
  std::string grpc_address;
  std::string public_base_url;
  absl::Mutex shutdown_mu;
  bool shut_down ABSL_GUARDED_BY(shutdown_mu) = false;
  // Whether the database answers (always, for SQLite); health says so.
  bool store_reachable ABSL_GUARDED_BY(shutdown_mu) = true;
  bool started ABSL_GUARDED_BY(shutdown_mu) = false;
  // `cache` once made, for the store's listener thread, which may start before it.
  std::atomic<storage::CachingStore*> cache_ready{nullptr};

  // The store goes first, while every part its last callbacks reach is still alive (a Start
  // that failed half way; Shutdown has closed it already).
  ~Parts() {
    sqlite.reset();
    postgres.reset();
  }

  absl::Status OpenStore(const ServerConfig& config);
  absl::StatusOr<storage::Store> OpenSqlite(const ServerConfig& config);
  absl::StatusOr<storage::Store> OpenPostgres(const ServerConfig& config);
  // Health follows the database's reachability (PostgreSQL); never serving after shutdown.
  void SetStoreReachable(bool reachable);
  absl::Status OpenSecrets(const ServerConfig& config);
  absl::Status OpenCallers(const ServerConfig& config);
  absl::Status StartHttp(const ServerConfig& config);
  absl::Status StartGrpc(const ServerConfig& config);
};

absl::Status ChannelServer::Parts::OpenStore(const ServerConfig& config) {
  // The data directory holds the key file and callers by default, and SQLite's database.
  absl::StatusOr<DataDir> dir = DataDir::Open(config.data_dir);
  if (!dir.ok()) return dir.status();
  data_dir.emplace(*std::move(dir));
  absl::StatusOr<storage::Store> inner =
      config.database_url.empty() ? OpenSqlite(config) : OpenPostgres(config);
  if (!inner.ok()) return inner.status();
  cache = std::make_unique<storage::CachingStore>(*inner, config.binding_cache_size);
  cache_ready = cache.get();
  // Whatever changed before the cache existed was never cached.
  roles = cache->roles();
  if (config.event_retention > absl::ZeroDuration()) {
    EventRetention::Options retention_options;
    retention_options.keep = config.event_retention;
    retention =
        std::make_unique<EventRetention>(roles.events, roles.jobs, &clock, retention_options);
  }
  return absl::OkStatus();
}

absl::StatusOr<storage::Store> ChannelServer::Parts::OpenSqlite(const ServerConfig& config) {
  storage::SqliteStore::Options options;
  options.path = data_dir->File("channeld.db");
  options.busy_timeout = config.store_busy_timeout;
  options.page_size = config.sqlite_page_size;
  options.checkpoint_wal_pages = config.sqlite_checkpoint_pages;
  options.commit_linger = config.sqlite_commit_linger;
  options.commit_observer = [metrics = &metrics](absl::Duration elapsed, int writes, bool ok) {
    metrics->RecordCommit(elapsed, writes, ok);
  };
  options.wal_frames_observer = [metrics = &metrics](int64_t frames) {
    metrics->RecordWalFrames(frames);
  };
  // Lifecycle events wake the event streams as webhook events do.
  options.events_committed = [this](int64_t cursor) { notifier.Publish(cursor); };
  absl::StatusOr<std::unique_ptr<storage::SqliteStore>> opened =
      storage::SqliteStore::Open(options);
  if (!opened.ok()) return opened.status();
  sqlite = *std::move(opened);
  return storage::AllRolesOf(*sqlite);
}

absl::StatusOr<storage::Store> ChannelServer::Parts::OpenPostgres(const ServerConfig& config) {
  storage::PostgresStore::Options options;
  options.url = config.database_url;
  options.lock_timeout = config.store_busy_timeout;
  options.commit_observer = [metrics = &metrics](absl::Duration elapsed, int writes, bool ok) {
    metrics->RecordCommit(elapsed, writes, ok);
  };
  // Other replicas' changes reach this one's cache and event streams. The cache is made
  // after the store, so these wait for it (they only run on the store's listener thread).
  options.on_change.binding_changed = [this](int64_t row_id) {
    if (storage::CachingStore* c = cache_ready.load()) c->InvalidateBinding(row_id);
  };
  options.on_change.changes_missed = [this] {
    if (storage::CachingStore* c = cache_ready.load()) c->InvalidateAll();
  };
  options.on_change.events_deliverable = [this](int64_t cursor) { notifier.Publish(cursor); };
  options.on_change.reachability_changed = [this](bool reachable) {
    SetStoreReachable(reachable);
  };
  absl::StatusOr<std::unique_ptr<storage::PostgresStore>> opened =
      storage::PostgresStore::Open(options);
  if (!opened.ok()) {
    // The URL may hold a password: the status names only what failed.
    return absl::Status(opened.status().code(),
                        absl::StrCat("PostgreSQL (--database_url): ", opened.status().message()));
  }
  postgres = *std::move(opened);
  return storage::AllRolesOf(*postgres);
}

void ChannelServer::Parts::SetStoreReachable(bool reachable) {
  absl::MutexLock lock(&shutdown_mu);
  store_reachable = reachable;
  // Until Start has finished, the parts below are still being made (Start applies the state
  // itself at the end).
  if (shut_down || !started) return;
  if (admin_handler) admin_handler->SetStoreReachable(reachable);
  if (grpc_server != nullptr) {
    if (grpc::HealthCheckServiceInterface* health = grpc_server->GetHealthCheckService()) {
      health->SetServingStatus(reachable);
    }
  }
}

absl::Status ChannelServer::Parts::OpenSecrets(const ServerConfig& config) {
  const std::string key_file =
      config.key_file.empty() ? data_dir->File("sealing.key") : config.key_file;
  bool created = false;
  absl::StatusOr<std::unique_ptr<SecretSealer>> opened =
      OpenSealer(key_file, *roles.sealed, &random, &created);
  if (!opened.ok()) return opened.status();
  sealer = *std::move(opened);
  if (created) {
    LogLine(LogLevel::kWarning, "key_file_created")
        .With("path", key_file)
        .With("key_id", sealer->keys()->current_id())
        .With("message",
              "created a new sealing key file; back it up apart from the database: without it "
              "the stored secrets cannot be read");
  }
  rotation = std::make_unique<KeyRotation>(key_file, sealer.get(), roles.sealed, &random);
  return absl::OkStatus();
}

absl::Status ChannelServer::Parts::OpenCallers(const ServerConfig& config) {
  const std::string path =
      config.callers_file.empty() ? data_dir->File("callers") : config.callers_file;
  absl::StatusOr<std::unique_ptr<CallerDirectory>> opened = CallerDirectory::Open(path);
  if (absl::IsNotFound(opened.status())) {
    const std::string token_file = data_dir->File("admin.token");
    if (absl::Status created = CreateCallersFileWithAdmin(path, token_file, random);
        !created.ok()) {
      return created;
    }
    LogLine(LogLevel::kWarning, "callers_file_created")
        .With("path", path)
        .With("admin_token_file", token_file)
        .With("message",
              "created a callers file with one admin caller; its token is in admin_token_file "
              "(channelctl reads it from there by default). Add callers with channeld "
              "add-caller.");
    opened = CallerDirectory::Open(path);
  }
  if (!opened.ok()) return absl::FailedPreconditionError(opened.status().message());
  callers = *std::move(opened);
  return absl::OkStatus();
}

absl::Status ChannelServer::Parts::StartHttp(const ServerConfig& config) {
  receiver = std::make_unique<WebhookReceiver>(roles.bindings, roles.events, sealer.get(), &clock,
                                               &notifier, config.binding_cache_size);
  webhook_handler = std::make_unique<WebhookHandler>(receiver.get(), &metrics);
  HttpServer::Options webhook;
  webhook.listen = config.webhook_listen;
  webhook.log_event = "webhook";
  webhook.threads = config.webhook_threads;
  webhook.max_body_bytes = config.webhook_max_body_bytes;
  webhook.max_connections = config.webhook_max_connections;
  webhook.header_timeout = config.webhook_header_timeout;
  webhook.body_timeout = config.webhook_body_timeout;
  webhook.idle_timeout = config.webhook_idle_timeout;
  webhook.tls_cert_file = config.webhook_tls_cert_file;
  webhook.tls_key_file = config.webhook_tls_key_file;
  webhook.busy_idle_timeout = config.webhook_busy_idle_timeout;
  webhook.on_answer = [m = &metrics](int status, absl::Duration latency) {
    m->RecordWebhook(status, latency);
  };
  webhook.on_connection_event = ConnectionMetrics(&metrics, "webhook");
  absl::StatusOr<std::unique_ptr<HttpServer>> started =
      HttpServer::Start(webhook, webhook_handler.get());
  if (!started.ok()) return started.status();
  webhook_server = *std::move(started);

  public_base_url = config.public_base_url.empty()
                        ? absl::StrCat(config.webhook_tls_cert_file.empty() ? "http" : "https",
                                       "://", webhook_server->address())
                        : config.public_base_url;
  if (absl::StartsWith(public_base_url, "http://")) {
    LogLine(LogLevel::kWarning, "config")
        .With("message",
              "webhook URLs use plain http; LINE only calls https URLs, so set "
              "--public_base_url to the https address that reaches this server")
        .With("public_base_url", public_base_url);
  }

  if (config.admin_listen.empty()) return absl::OkStatus();
  admin_handler = std::make_unique<AdminHandler>(&metrics, admin_routes);
  HttpServer::Options admin;
  admin.listen = config.admin_listen;
  admin.log_event = "admin_http";
  admin.threads = 1;
  admin.max_connections = 64;
  admin.on_connection_event = ConnectionMetrics(&metrics, "admin");
  started = HttpServer::Start(admin, admin_handler.get());
  if (!started.ok()) return started.status();
  admin_server = *std::move(started);
  return absl::OkStatus();
}

absl::Status ChannelServer::Parts::StartGrpc(const ServerConfig& config) {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = GrpcCredentials(config);
  if (!credentials.ok()) return credentials.status();
  executor = std::make_unique<Executor>(config.rpc_workers, config.rpc_queue);
  gate = std::make_unique<RpcGate>(callers.get(), executor.get(), &metrics);
  channel_service =
      std::make_unique<GrpcChannelService>(gate.get(), bindings.get(), outbound.get(),
                                           roles.events, &notifier, executor.get(),
                                           config.max_event_streams);
  admin_service = std::make_unique<GrpcAdminService>(gate.get(), rotation.get(), callers.get());

  RegisterReflectionOnlyDescriptors();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config.grpc_listen, *credentials, &port);
  builder.RegisterService(channel_service.get());
  builder.RegisterService(admin_service.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(config.grpc_max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(config.grpc_max_message_bytes) * 4);
  // One connection cannot hog the server with streams.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 128);
  // A connection that never sends the HTTP/2 preface and SETTINGS (gRPC 1.51 keeps this timer
  // running until the client's first SETTINGS frame arrives) would otherwise hold its
  // descriptor for gRPC's default of 120 s.
  builder.AddChannelArgument(
      GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
      static_cast<int>(absl::ToInt64Milliseconds(config.grpc_handshake_timeout)));
  // Idle connections (no call open) are closed with a GOAWAY; gRPC clients reconnect on their
  // next call without the caller noticing, so a flood of idle connections drains by itself.
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_IDLE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(config.grpc_max_connection_idle)));
  grpc_server = builder.BuildAndStart();
  if (grpc_server == nullptr || port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", config.grpc_listen,
                     " (address in use or not an address of this machine)"));
  }
  grpc_address =
      absl::StrCat(config.grpc_listen.substr(0, config.grpc_listen.rfind(':')), ":", port);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ChannelServer>> ChannelServer::Start(const ServerConfig& config,
                                                                    AdminRoutes* admin_routes) {
  if (!config.public_base_url.empty()) {
    if (absl::Status url = CheckPublicBaseUrl(config.public_base_url); !url.ok()) return url;
  }
  auto parts = std::make_unique<Parts>();
  if (absl::Status s = parts->OpenStore(config); !s.ok()) return s;
  if (absl::Status s = parts->OpenSecrets(config); !s.ok()) return s;
  if (absl::Status s = parts->OpenCallers(config); !s.ok()) return s;
  parts->admin_routes = admin_routes;
  if (absl::Status s = parts->StartHttp(config); !s.ok()) return s;

  CurlLineApi::Options line_options{config.line_api_base_url, config.line_timeout,
                                    absl::Seconds(3), config.line_ca_file};
  line_options.data_base_url = config.line_data_base_url;
  if (line_options.data_base_url.empty()) {
    line_options.data_base_url = config.line_api_base_url == "https://api.line.me"
                                     ? "https://api-data.line.me"
                                     : config.line_api_base_url;
  }
  parts->line = std::make_unique<CurlLineApi>(line_options);
  parts->verifier = std::make_unique<BindingVerifier>(parts->line.get(), config.line_checks);
  parts->checks = std::make_unique<LineWebhookSettings>(
      parts->line.get(), parts->roles.bindings, parts->roles.checks, parts->roles.events,
      parts->sealer.get(), &parts->clock,
      LineWebhookSettings::Options{config.line_test_calls_per_hour});
  parts->bindings = std::make_unique<BindingService>(
      parts->roles.bindings, parts->verifier.get(), parts->checks.get(), parts->sealer.get(),
      &parts->random, &parts->clock,
      BindingService::Options{parts->public_base_url, config.line_timeout});
  if (config.recheck_interval > absl::ZeroDuration() && config.line_checks != LineChecks::kOff) {
    parts->proof = std::make_unique<BindingProof>(parts->roles.bindings, parts->verifier.get(),
                                                  parts->sealer.get(), &parts->clock);
    parts->recheck = std::make_unique<PeriodicRecheck>(
        parts->roles.bindings, parts->roles.jobs, parts->bindings.get(), parts->checks.get(),
        parts->proof.get(), &parts->clock,
        PeriodicRecheck::Options{config.recheck_interval, config.recheck_per_second,
                                 config.recheck_unverified_first, config.recheck_unverified_max});
  }
  parts->limiter = std::make_unique<OutboundLimiter>(
      &parts->clock,
      OutboundLimiter::Options{config.outbound_per_binding_per_second,
                               static_cast<int>(std::max(1.0, config.outbound_per_binding_per_second * 2)),
                               config.outbound_per_binding_in_flight});
  PushSender::Options push_options;
  push_options.call_timeout = config.line_timeout;
  push_options.lease = config.push_lease;
  push_options.threads = config.push_retry_threads;
  push_options.keep = config.push_retention;
  parts->push_sender = std::make_unique<PushSender>(
      parts->roles.pushes, parts->roles.bindings, parts->roles.jobs, parts->line.get(),
      parts->sealer.get(),
      &parts->clock, &parts->metrics, push_options);
  OutboundService::Options outbound_options;
  outbound_options.call_timeout = config.line_timeout;
  parts->outbound = std::make_unique<OutboundService>(
      parts->bindings.get(), parts->roles.bindings, parts->roles.pushes, parts->push_sender.get(),
      parts->line.get(), parts->sealer.get(), parts->limiter.get(), &parts->clock,
      &parts->metrics, outbound_options);
  if (absl::Status s = parts->StartGrpc(config); !s.ok()) return s;
  parts->push_sender->Start();
  // Health as the database is now (it may have gone away while the server started).
  {
    absl::MutexLock lock(&parts->shutdown_mu);
    parts->started = true;
  }
  parts->SetStoreReachable(parts->postgres == nullptr || parts->postgres->reachable());
  return std::unique_ptr<ChannelServer>(new ChannelServer(std::move(parts)));
}

ChannelServer::ChannelServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ChannelServer::~ChannelServer() { Shutdown(absl::Seconds(5)); }

std::string ChannelServer::grpc_address() const { return parts_->grpc_address; }

std::string ChannelServer::webhook_address() const { return parts_->webhook_server->address(); }

std::string ChannelServer::admin_address() const {
  return parts_->admin_server ? parts_->admin_server->address() : "";
}

std::string ChannelServer::public_base_url() const { return parts_->public_base_url; }

absl::Status ChannelServer::ReloadCallers() { return parts_->callers->Reload(); }

void ChannelServer::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&parts_->shutdown_mu);
    if (parts_->shut_down) return;
    parts_->shut_down = true;
  }
  const absl::Time deadline = absl::Now() + grace;
  if (grpc::HealthCheckServiceInterface* health = parts_->grpc_server->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
  if (parts_->admin_handler) parts_->admin_handler->SetShuttingDown();
  parts_->gate->StopAdmitting();
  // Streams never end by themselves: end them now, so their callers reconnect elsewhere.
  parts_->notifier.Close();
  parts_->webhook_server->Shutdown(deadline - absl::Now());
  // gRPC's own shutdown also waits for idle client connections to go away, which they may
  // not do for seconds: wait for our running RPCs instead, then let gRPC close everything.
  parts_->gate->WaitIdle(deadline);
  parts_->grpc_server->Shutdown(absl::ToChronoTime(absl::Now()));
  // Work already handed to the executor finishes before the store closes.
  parts_->executor.reset();
  parts_->grpc_server->Wait();
  // A push attempt in progress finishes (or its lease runs out and another replica, or the
  // next start, takes it over).
  parts_->push_sender->Stop();
  parts_->recheck.reset();
  parts_->retention.reset();
  if (parts_->admin_server) parts_->admin_server->Shutdown(absl::ZeroDuration());
  parts_->sqlite.reset();
  parts_->postgres.reset();
}

}  // namespace linechannel::server
