#include "tests/integration/harness.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace linechannel::testing {

const FixtureChannel& Channel1() {
  static const auto* c = new FixtureChannel{"1656000001", "a1a1a1a1b2b2b2b2c3c3c3c3d4d4d4d4",
                                            "TOKEN1+longlived/" + std::string(150, 'A') + "1111=",
                                            "U11111111111111111111111111111111", "@111aaaaa"};
  return *c;
}

const FixtureChannel& Channel2() {
  static const auto* c = new FixtureChannel{"1656000002", "e5e5e5e5f6f6f6f6a7a7a7a7b8b8b8b8",
                                            "TOKEN2+longlived/" + std::string(150, 'B') + "2222=",
                                            "U22222222222222222222222222222222", "@222bbbbb"};
  return *c;
}

const FixtureChannel& Channel3() {
  static const auto* c = new FixtureChannel{"1656000003", "0c0c0c0c1d1d1d1d2e2e2e2e3f3f3f3f",
                                            "TOKEN3+longlived/" + std::string(150, 'C') + "3333=",
                                            "U33333333333333333333333333333333", "@333ccccc"};
  return *c;
}

namespace {

// Adds "authorization: Bearer <token>" to every call of a channel.
class BearerInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit BearerInterceptor(std::string token) : token_(std::move(token)) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", "Bearer " + token_});
    }
    methods->Proceed();
  }

 private:
  const std::string token_;
};

class BearerInterceptorFactory : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(std::string token) : token_(std::move(token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo*) override {
    return new BearerInterceptor(token_);
  }

 private:
  const std::string token_;
};

std::shared_ptr<grpc::Channel> ChannelWithToken(const std::string& address,
                                                const std::string& token,
                                                const std::string& tls_ca_pem) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments args;
  if (!tls_ca_pem.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = tls_ca_pem;
    credentials = grpc::SslCredentials(ssl);
    // The test certificates are for "localhost"; the server listens on 127.0.0.1.
    args.SetSslTargetNameOverride("localhost");
  }
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  if (!token.empty()) factories.push_back(std::make_unique<BearerInterceptorFactory>(token));
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, credentials, args,
                                                                 std::move(factories));
}

}  // namespace

absl::StatusOr<std::unique_ptr<FakeLine>> FakeLine::Start(std::vector<std::string> extra_args) {
  ChildProcess::Options options;
  options.argv = {FAKE_LINE_PATH, "--listen=127.0.0.1:0",
                  absl::StrCat("--fixture=", INTEGRATION_TESTDATA, "/channels.json")};
  for (auto& arg : extra_args) options.argv.push_back(std::move(arg));
  auto process = ChildProcess::Start(options);
  if (!process.ok()) return process.status();
  auto line = (*process)->WaitForLine("fake_line listening on");
  if (!line.ok()) return line.status();
  auto port = PortAfter(*line, "http://");
  if (!port.ok()) return port.status();
  auto fake = std::make_unique<FakeLine>();
  fake->process_ = *std::move(process);
  fake->base_url_ = absl::StrCat("http://127.0.0.1:", *port);
  return fake;
}

absl::StatusOr<HttpResponse> FakeLine::Control(const std::string& method, const std::string& path,
                                               const std::string& body) {
  return HttpCall(method, base_url_ + path, body, {{"Content-Type", "application/json"}});
}

absl::Status FakeLine::AddChannels(const std::vector<FixtureChannel>& channels,
                                   const std::string& display_name) {
  std::string json;
  for (const FixtureChannel& c : channels) {
    absl::StrAppend(&json, json.empty() ? "" : ",", R"({"channel_id":")", c.channel_id,
                    R"(","channel_secret":")", c.secret, R"(","access_token":")", c.token,
                    R"(","bot_user_id":")", c.bot_user_id, R"(","basic_id":")", c.line_id,
                    R"(","display_name":")", display_name, " ", c.channel_id, R"("})");
  }
  absl::StatusOr<HttpResponse> added =
      Control("POST", "/fake/channels", absl::StrCat(R"({"channels":[)", json, "]}"));
  if (!added.ok()) return added.status();
  if (added->status != 200) {
    return absl::InternalError(
        absl::StrCat("fake LINE refused the channels: HTTP ", added->status, " ", added->body));
  }
  return absl::OkStatus();
}

absl::Status FakeLine::PointWebhookAt(const std::string& channel_id, const std::string& url) {
  absl::StatusOr<HttpResponse> patched =
      Control("PATCH", "/fake/channels/" + channel_id,
              absl::StrCat(R"({"webhook_endpoint":")", url, R"(","webhook_active":true})"));
  if (!patched.ok()) return patched.status();
  if (patched->status != 200) {
    return absl::InternalError(absl::StrCat("fake LINE refused the webhook settings: HTTP ",
                                            patched->status, " ", patched->body));
  }
  return absl::OkStatus();
}

Channeld::Channeld(Options options) : options_(std::move(options)) {
  data_dir_ = dir_.File("data");
}

Channeld::~Channeld() {
  if (process_ != nullptr) (void)Stop();
}

absl::StatusOr<std::unique_ptr<Channeld>> Channeld::Start(Options options) {
  std::unique_ptr<Channeld> channeld(new Channeld(std::move(options)));
  if (absl::Status launched = channeld->Launch(); !launched.ok()) return launched;
  return channeld;
}

absl::Status Channeld::Launch() {
  ChildProcess::Options options;
  // A restart listens where the first start did, so webhook URLs stay the same.
  options.argv = {
      options_.binary, "--grpc_listen=" + (grpc_address_.empty() ? "127.0.0.1:0" : grpc_address_),
      "--webhook_listen=" + (webhook_address_.empty() ? "127.0.0.1:0" : webhook_address_),
      "--admin_listen=" + (admin_address_.empty() ? "127.0.0.1:0" : admin_address_),
      "--data_dir=" + data_dir_, "--line_timeout=3s",
      // The re-check would call the fake LINE at moments no test chooses; tests that want it
      // turn it on with their own --recheck_interval (extra flags come later and win).
      "--recheck_interval=0"};
  if (!options_.line_api_base_url.empty()) {
    options.argv.push_back("--line_api_base_url=" + options_.line_api_base_url);
  }
  for (const auto& [flag, value] : {std::pair{"--database_url=", &options_.database_url},
                                    std::pair{"--key_file=", &options_.key_file},
                                    std::pair{"--callers_file=", &options_.callers_file}}) {
    if (!value->empty()) options.argv.push_back(flag + *value);
  }
  for (const auto& flag : options_.extra_flags) options.argv.push_back(flag);
  options.stderr_path = log_path();
  auto process = ChildProcess::Start(options);
  if (!process.ok()) return process.status();
  auto line = (*process)->WaitForLine("channeld ready");
  if (!line.ok()) {
    return absl::Status(line.status().code(),
                        absl::StrCat(line.status().message(), "; log: ", ReadLog()));
  }
  auto port = PortAfter(*line, "grpc=");
  if (!port.ok()) return port.status();
  auto webhook_port = PortAfter(*line, "webhook=");
  if (!webhook_port.ok()) return webhook_port.status();
  auto admin_port = PortAfter(*line, "admin=");
  if (!admin_port.ok()) return admin_port.status();
  process_ = *std::move(process);
  grpc_address_ = absl::StrCat("127.0.0.1:", *port);
  webhook_address_ = absl::StrCat("127.0.0.1:", *webhook_port);
  admin_address_ = absl::StrCat("127.0.0.1:", *admin_port);
  admin_token_ = options_.admin_token.empty()
                     ? std::string(absl::StripAsciiWhitespace(ReadFile(data_dir_ + "/admin.token")))
                     : options_.admin_token;
  stub_ = StubWithToken(admin_token_);
  admin_stub_ = AdminStubWithToken(admin_token_);
  return absl::OkStatus();
}

std::unique_ptr<v1::ChannelService::Stub> Channeld::StubWithToken(const std::string& token) const {
  return v1::ChannelService::NewStub(
      ChannelWithToken(grpc_address_, token, options_.grpc_tls_ca_pem));
}

std::unique_ptr<v1::AdminService::Stub> Channeld::AdminStubWithToken(
    const std::string& token) const {
  return v1::AdminService::NewStub(
      ChannelWithToken(grpc_address_, token, options_.grpc_tls_ca_pem));
}

absl::StatusOr<std::string> Channeld::AddCaller(const std::string& name, const std::string& teams) {
  ChildProcess::Options options;
  options.argv = {options_.binary, "add-caller", "--data_dir=" + data_dir_, "--caller_name=" + name,
                  "--caller_teams=" + teams};
  if (!options_.callers_file.empty())
    options.argv.push_back("--callers_file=" + options_.callers_file);
  options.stderr_path = dir_.File("add-caller.log");
  auto process = ChildProcess::Start(options);
  if (!process.ok()) return process.status();
  auto exit = (*process)->Wait();
  if (!exit.ok()) return exit.status();
  const std::vector<std::string> lines = (*process)->Lines();
  if (*exit != 0 || lines.empty()) {
    return absl::InternalError("add-caller failed: " + ReadFile(options.stderr_path));
  }
  grpc::ClientContext context;
  v1::ReloadCallersRequest request;
  v1::ReloadCallersResponse response;
  const grpc::Status reloaded = admin_stub_->ReloadCallers(&context, request, &response);
  if (!reloaded.ok()) return absl::InternalError("reload: " + reloaded.error_message());
  return lines[0];
}

absl::StatusOr<int> Channeld::Stop() {
  if (process_ == nullptr) return absl::FailedPreconditionError("not running");
  stub_.reset();
  admin_stub_.reset();
  auto status = process_->Stop(SIGTERM);
  process_.reset();
  return status;
}

absl::Status Channeld::Restart() {
  if (process_ != nullptr) {
    auto stopped = Stop();
    if (!stopped.ok()) return stopped.status();
  }
  // A test running beside this one may take a port of ours the moment it is free, as the local
  // port of a connection of its own (a CI run lost a restart so): such a port is soon free
  // again, so the restart tries for a few seconds before it fails.
  absl::Status launched = Launch();
  for (int attempt = 0;
       attempt < 50 && absl::StrContains(launched.message(), "Address already in use"); ++attempt) {
    absl::SleepFor(absl::Milliseconds(100));
    launched = Launch();
  }
  return launched;
}

std::string Channeld::ReadLog() const { return ReadFile(log_path()); }

std::string Channeld::ReadLogOnceItHas(absl::string_view text) const {
  const absl::Time give_up = absl::Now() + absl::Minutes(1);
  // Whole lines only: the file may be read while channeld is still writing a line.
  const auto whole_lines = [this] {
    std::string log = ReadLog();
    log.resize(log.rfind('\n') + 1);  // npos + 1 == 0: no whole line yet.
    return log;
  };
  std::string log = whole_lines();
  while (!absl::StrContains(log, text) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(2));
    log = whole_lines();
  }
  return log;
}

void ServiceTest::SetUp() {
  auto line = FakeLine::Start();
  ASSERT_TRUE(line.ok()) << line.status();
  line_ = *std::move(line);
  Channeld::Options options{line_->base_url(), Flags()};
  options.binary = Binary();
  auto channeld = Channeld::Start(std::move(options));
  ASSERT_TRUE(channeld.ok()) << channeld.status();
  channeld_ = *std::move(channeld);
}

std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

std::unique_ptr<grpc::ClientContext> AuthContext(const std::string& token, absl::Duration timeout) {
  std::unique_ptr<grpc::ClientContext> context = Context(timeout);
  context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

namespace {

google::rpc::Status Details(const grpc::Status& status) {
  google::rpc::Status details;
  details.ParseFromString(status.error_details());
  return details;
}

}  // namespace

std::string Reason(const grpc::Status& status) {
  const google::rpc::Status details = Details(status);
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info.reason();
  }
  return "";
}

std::vector<std::string> ViolatedFields(const grpc::Status& status) {
  std::vector<std::string> fields;
  const google::rpc::Status details = Details(status);
  for (const auto& any : details.details()) {
    google::rpc::BadRequest bad_request;
    if (!any.UnpackTo(&bad_request)) continue;
    for (const auto& v : bad_request.field_violations()) fields.push_back(v.field());
  }
  return fields;
}

v1::BindChannelRequest BindRequestFor(const FixtureChannel& channel, const std::string& team) {
  v1::BindChannelRequest request;
  request.set_team_id(team);
  request.set_app_name("App of " + channel.channel_id);
  request.set_channel_id(channel.channel_id);
  request.set_channel_secret(channel.secret);
  request.set_channel_access_token(channel.token);
  request.set_line_id(channel.line_id);
  return request;
}

std::string BindForWebhooks(Channeld& channeld, const FixtureChannel& channel,
                            const std::string& team) {
  v1::BindChannelResponse bound;
  const grpc::Status status =
      channeld.stub().BindChannel(Context().get(), BindRequestFor(channel, team), &bound);
  [&] { ASSERT_TRUE(status.ok()) << status.error_message(); }();
  return status.ok() ? bound.channel().webhook_url() : "";
}

std::shared_ptr<grpc::Channel> OwnChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return channel;
}

std::string Answer(const grpc::Status& status) {
  if (status.ok()) return "OK";
  const std::string reason = Reason(status);
  return absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                      reason.empty() ? "" : "/", reason);
}

int EnvInt(const char* name, int fallback, int min) {
  const char* value = std::getenv(name);
  int parsed = 0;
  if (value == nullptr || !absl::SimpleAtoi(value, &parsed) || parsed < min) return fallback;
  return parsed;
}

v1::Channel GetChannelOf(v1::ChannelService::Stub& stub, const std::string& team_id,
                         const std::string& channel_id) {
  v1::GetChannelRequest request;
  request.set_team_id(team_id);
  request.set_channel_id(channel_id);
  v1::Channel channel;
  const grpc::Status status = stub.GetChannel(Context().get(), request, &channel);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return channel;
}

std::vector<v1::Event> ListAllEvents(v1::ChannelService::Stub& stub, const std::string& team_id,
                                     const std::string& channel_id, bool with_lifecycle) {
  std::vector<v1::Event> events;
  v1::ListEventsRequest request;
  request.set_team_id(team_id);
  request.set_channel_id(channel_id);
  request.set_page_size(1000);
  while (true) {
    v1::ListEventsResponse response;
    const grpc::Status status = stub.ListEvents(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok() || response.events().empty()) break;
    for (const v1::Event& event : response.events()) {
      if (with_lifecycle || !event.has_lifecycle()) events.push_back(event);
    }
    request.set_after_cursor(response.next_cursor());
  }
  return events;
}

std::string TestSignature(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &length);
  return absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(mac), length));
}

std::string MessageEventJson(const std::string& webhook_event_id, bool redelivery) {
  return absl::StrCat(R"({"type":"message","mode":"active","timestamp":1700000000000,)",
                      R"("source":{"type":"user","userId":"Uabc"},"webhookEventId":")",
                      webhook_event_id, R"(","deliveryContext":{"isRedelivery":)",
                      redelivery ? "true" : "false",
                      R"(},"message":{"id":"1","type":"text","text":"hi"}})");
}

std::string WebhookBody(const std::string& destination, const std::string& events) {
  return absl::StrCat(R"({"destination":")", destination, R"(","events":[)", events, "]}");
}

absl::StatusOr<HttpResponse> PostSignedWebhook(const std::string& url, const std::string& secret,
                                               const std::string& body, absl::Duration timeout) {
  return HttpCall("POST", url, body,
                  {{"x-line-signature", TestSignature(secret, body)},
                   {"content-type", "application/json; charset=utf-8"}},
                  timeout);
}

int PostSignedWebhookStatus(const std::string& url, const std::string& secret,
                            const std::string& body, absl::Duration timeout) {
  const absl::StatusOr<HttpResponse> response = PostSignedWebhook(url, secret, body, timeout);
  return response.ok() ? response->status : 0;
}

}  // namespace linechannel::testing
