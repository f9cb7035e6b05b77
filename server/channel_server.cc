#include "server/channel_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <chrono>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "server/binding_service.h"
#include "server/clock.h"
#include "server/curl_line_api.h"
#include "server/data_dir.h"
#include "server/event_notifier.h"
#include "server/event_retention.h"
#include "server/executor.h"
#include "server/grpc_channel_service.h"
#include "server/logger.h"
#include "server/periodic_recheck.h"
#include "server/webhook_checks.h"
#include "server/random_source.h"
#include "server/sealing_keys.h"
#include "server/webhook_http_server.h"
#include "server/webhook_receiver.h"
#include "storage/sqlite_store.h"

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
    return absl::FailedPreconditionError(
        absl::StrCat("public base URL is ", url.size(), " characters; at most ",
                     kMaxPublicBaseUrlLength, " leave room for the webhook key within LINE's "
                     "500-character limit"));
  }
  return absl::OkStatus();
}

// Makes the descriptors of the health and error-detail types part of the binary's descriptor
// pool, which reflection serves: gRPC's built-in health service does not register them, and
// nothing else in the server names the error-detail messages by type.
void RegisterReflectionOnlyDescriptors() {
  grpc::health::v1::HealthCheckRequest::descriptor();
  google::rpc::Status::descriptor();
  google::rpc::ErrorInfo::descriptor();
}

}  // namespace

// Declared in the order they start; destroyed in reverse. The webhook server outlives the store
// so that commits finishing during shutdown can still post their (unsent) answers to it.
struct ChannelServer::Parts {
  std::optional<DataDir> data_dir;
  RealClock clock;
  OpenSslRandom random;
  EventNotifier notifier;
  std::unique_ptr<WebhookReceiver> receiver;
  std::unique_ptr<WebhookHttpServer> webhook_server;
  std::unique_ptr<storage::SqliteStore> store;
  std::unique_ptr<EventRetention> retention;
  std::unique_ptr<SecretSealer> sealer;
  std::unique_ptr<CurlLineApi> line;
  std::unique_ptr<BindingVerifier> verifier;
  std::unique_ptr<WebhookChecks> checks;
  std::unique_ptr<BindingService> bindings;
  std::unique_ptr<PeriodicRecheck> recheck;
  std::unique_ptr<Executor> executor;
  std::unique_ptr<GrpcChannelService> grpc_service;
  std::unique_ptr<grpc::Server> grpc_server;
  std::string grpc_address;
  std::string webhook_address;
  std::string public_base_url;
  absl::Mutex shutdown_mu;
  bool shut_down ABSL_GUARDED_BY(shutdown_mu) = false;
};

absl::StatusOr<std::unique_ptr<ChannelServer>> ChannelServer::Start(const ServerConfig& config) {
  auto parts = std::make_unique<Parts>();
  if (!config.public_base_url.empty()) {
    if (absl::Status url = CheckPublicBaseUrl(config.public_base_url); !url.ok()) return url;
  }

  absl::StatusOr<DataDir> data_dir = DataDir::Open(config.data_dir);
  if (!data_dir.ok()) return data_dir.status();
  parts->data_dir.emplace(*std::move(data_dir));

  storage::SqliteStore::Options store_options;
  store_options.path = parts->data_dir->File("channeld.db");
  store_options.busy_timeout = config.store_busy_timeout;
  absl::StatusOr<std::unique_ptr<storage::SqliteStore>> store =
      storage::SqliteStore::Open(store_options);
  if (!store.ok()) return store.status();
  parts->store = *std::move(store);

  const std::string key_file =
      config.key_file.empty() ? parts->data_dir->File("sealing.key") : config.key_file;
  bool created_key_file = false;
  absl::StatusOr<std::unique_ptr<SecretSealer>> sealer =
      OpenSealer(key_file, *parts->store, &parts->random, &created_key_file);
  if (!sealer.ok()) return sealer.status();
  parts->sealer = *std::move(sealer);
  if (created_key_file) {
    LogLine(LogLevel::kWarning, "key_file_created")
        .With("path", key_file)
        .With("key_id", parts->sealer->keys().current_id())
        .With("message",
              "created a new sealing key file; back it up apart from the database: without it "
              "the stored secrets cannot be read");
  }

  if (config.event_retention > absl::ZeroDuration()) {
    EventRetention::Options retention;
    retention.keep = config.event_retention;
    parts->retention =
        std::make_unique<EventRetention>(parts->store.get(), &parts->clock, retention);
  }

  parts->receiver = std::make_unique<WebhookReceiver>(
      parts->store.get(), parts->store.get(), parts->sealer.get(), &parts->clock,
      &parts->notifier);
  WebhookHttpServer::Options webhook;
  webhook.listen = config.webhook_listen;
  webhook.threads = config.webhook_threads;
  webhook.max_body_bytes = config.webhook_max_body_bytes;
  webhook.header_timeout = config.webhook_header_timeout;
  webhook.body_timeout = config.webhook_body_timeout;
  webhook.idle_timeout = config.webhook_idle_timeout;
  absl::StatusOr<std::unique_ptr<WebhookHttpServer>> webhook_server =
      WebhookHttpServer::Start(webhook, parts->receiver.get());
  if (!webhook_server.ok()) return webhook_server.status();
  parts->webhook_server = *std::move(webhook_server);
  parts->webhook_address = parts->webhook_server->address();
  parts->public_base_url = config.public_base_url.empty()
                               ? "http://" + parts->webhook_address
                               : config.public_base_url;
  if (absl::StartsWith(parts->public_base_url, "http://")) {
    LogLine(LogLevel::kWarning, "config")
        .With("message",
              "webhook URLs use plain http; LINE only calls https URLs, so set "
              "--public_base_url to the https address that reaches this server")
        .With("public_base_url", parts->public_base_url);
  }

  parts->line = std::make_unique<CurlLineApi>(CurlLineApi::Options{
      config.line_api_base_url, config.line_timeout, absl::Seconds(3), config.line_ca_file});
  parts->verifier = std::make_unique<BindingVerifier>(parts->line.get(), config.line_checks);
  parts->checks = std::make_unique<WebhookChecks>(
      parts->line.get(), parts->store.get(), parts->sealer.get(), &parts->clock,
      WebhookChecks::Options{config.line_test_calls_per_hour});
  parts->bindings = std::make_unique<BindingService>(
      parts->store.get(), parts->verifier.get(), parts->checks.get(), parts->sealer.get(),
      &parts->random, &parts->clock, BindingService::Options{parts->public_base_url});
  if (config.recheck_interval > absl::ZeroDuration() &&
      config.line_checks != LineChecks::kOff) {
    parts->recheck = std::make_unique<PeriodicRecheck>(
        parts->store.get(), parts->bindings.get(), parts->checks.get(),
        PeriodicRecheck::Options{config.recheck_interval, config.recheck_per_second});
  }
  parts->executor = std::make_unique<Executor>(config.rpc_workers, config.rpc_queue);
  parts->grpc_service = std::make_unique<GrpcChannelService>(
      parts->bindings.get(), parts->store.get(), &parts->notifier, parts->executor.get());

  RegisterReflectionOnlyDescriptors();
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int grpc_port = 0;
  builder.AddListeningPort(config.grpc_listen, grpc::InsecureServerCredentials(), &grpc_port);
  builder.RegisterService(parts->grpc_service.get());
  parts->grpc_server = builder.BuildAndStart();
  if (parts->grpc_server == nullptr || grpc_port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", config.grpc_listen,
                     " (address in use or not an address of this machine)"));
  }
  const size_t colon = config.grpc_listen.rfind(':');
  parts->grpc_address =
      absl::StrCat(config.grpc_listen.substr(0, colon), ":", grpc_port);
  return std::unique_ptr<ChannelServer>(new ChannelServer(std::move(parts)));
}

ChannelServer::ChannelServer(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

ChannelServer::~ChannelServer() { Shutdown(absl::Seconds(5)); }

std::string ChannelServer::grpc_address() const { return parts_->grpc_address; }

std::string ChannelServer::webhook_address() const { return parts_->webhook_address; }

std::string ChannelServer::public_base_url() const { return parts_->public_base_url; }

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
  // Streams never end by themselves: end them now, so their callers reconnect elsewhere.
  parts_->notifier.Close();
  parts_->webhook_server->Shutdown(deadline - absl::Now());
  parts_->grpc_server->Shutdown(absl::ToChronoTime(deadline));
  // Work already handed to the executor finishes before the store closes.
  parts_->executor.reset();
  parts_->grpc_server->Wait();
  parts_->retention.reset();
  parts_->recheck.reset();
  parts_->store.reset();
}

}  // namespace linechannel::server
