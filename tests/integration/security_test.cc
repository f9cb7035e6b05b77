// Caller identity and team boundaries for every RPC, TLS on both ports, and secrets kept out of
// everything the service writes: against the real channeld and fake LINE platform.

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <boost/asio.hpp>
#include <fstream>
#include <functional>
#include <map>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/support/json_field.h"
#include "tests/support/test_certificates.h"

namespace linechannel::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SecurityTest : public ServiceTest {};

// One call of every ChannelService RPC as `team`, returning its status.
using Rpc = std::function<grpc::Status(v1::ChannelService::Stub&, const std::string& team)>;

std::map<std::string, Rpc> EveryRpc() {
  const std::string channel = Channel1().channel_id;
  std::map<std::string, Rpc> rpcs;
  rpcs["BindChannel"] = [](v1::ChannelService::Stub& stub, const std::string& team) {
    v1::BindChannelResponse response;
    return stub.BindChannel(Context().get(), BindRequestFor(Channel2(), team), &response);
  };
  rpcs["UnbindChannel"] = [channel](v1::ChannelService::Stub& stub, const std::string& team) {
    v1::UnbindChannelRequest request;
    request.set_team_id(team);
    request.set_channel_id(channel);
    v1::UnbindChannelResponse response;
    return stub.UnbindChannel(Context().get(), request, &response);
  };
  rpcs["GetWebhookUrl"] = [channel](v1::ChannelService::Stub& stub, const std::string& team) {
    v1::GetWebhookUrlRequest request;
    request.set_team_id(team);
    request.set_channel_id(channel);
    v1::GetWebhookUrlResponse response;
    return stub.GetWebhookUrl(Context().get(), request, &response);
  };
  rpcs["VerifyWebhook"] = [channel](v1::ChannelService::Stub& stub, const std::string& team) {
    v1::VerifyWebhookRequest request;
    request.set_team_id(team);
    request.set_channel_id(channel);
    v1::VerifyWebhookResponse response;
    return stub.VerifyWebhook(Context().get(), request, &response);
  };
  rpcs["GetChannel"] = [channel](v1::ChannelService::Stub& stub, const std::string& team) {
    v1::GetChannelRequest request;
    request.set_team_id(team);
    request.set_channel_id(channel);
    v1::Channel response;
    return stub.GetChannel(Context().get(), request, &response);
  };
  rpcs["ListChannels"] = [](v1::ChannelService::Stub& stub, const std::string& team) {
    v1::ListChannelsRequest request;
    request.set_team_id(team);
    v1::ListChannelsResponse response;
    return stub.ListChannels(Context().get(), request, &response);
  };
  rpcs["UpdateCredentials"] = [channel](v1::ChannelService::Stub& stub, const std::string& team) {
    v1::UpdateCredentialsRequest request;
    request.set_team_id(team);
    request.set_channel_id(channel);
    request.set_channel_access_token(Channel1().token);
    v1::UpdateCredentialsResponse response;
    return stub.UpdateCredentials(Context().get(), request, &response);
  };
  rpcs["ListAuditEntries"] = [](v1::ChannelService::Stub& stub, const std::string& team) {
    v1::ListAuditEntriesRequest request;
    request.set_team_id(team);
    v1::ListAuditEntriesResponse response;
    return stub.ListAuditEntries(Context().get(), request, &response);
  };
  rpcs["ListEvents"] = [](v1::ChannelService::Stub& stub, const std::string& team) {
    v1::ListEventsRequest request;
    request.set_team_id(team);
    v1::ListEventsResponse response;
    return stub.ListEvents(Context().get(), request, &response);
  };
  rpcs["StreamEvents"] = [](v1::ChannelService::Stub& stub, const std::string& team) {
    v1::StreamEventsRequest request;
    request.set_team_id(team);
    // An admitted stream stays open: give it a moment, then read how it ended.
    auto context = Context(absl::Milliseconds(300));
    auto reader = stub.StreamEvents(context.get(), request);
    v1::Event event;
    while (reader->Read(&event)) {
    }
    return reader->Finish();
  };
  return rpcs;
}

TEST_F(SecurityTest, EveryRpcChecksTheCallerAndItsTeams) {
  v1::BindChannelResponse bound;
  ASSERT_TRUE(channeld_->stub()
                  .BindChannel(Context().get(), BindRequestFor(Channel1(), "team-a"), &bound)
                  .ok());
  auto team_a_token = channeld_->AddCaller("inbox-a", "team-a");
  ASSERT_TRUE(team_a_token.ok()) << team_a_token.status();
  auto team_b_token = channeld_->AddCaller("inbox-b", "team-b,team-c");
  ASSERT_TRUE(team_b_token.ok()) << team_b_token.status();

  auto no_token = channeld_->StubWithToken("");
  auto wrong_token = channeld_->StubWithToken("not-a-token-of-this-server");
  auto team_a = channeld_->StubWithToken(*team_a_token);
  auto team_b = channeld_->StubWithToken(*team_b_token);

  for (const auto& [name, call] : EveryRpc()) {
    grpc::Status status = call(*no_token, "team-a");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << name;
    EXPECT_EQ(Reason(status), "UNAUTHENTICATED") << name;
    status = call(*wrong_token, "team-a");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << name;
    status = call(*team_b, "team-a");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << name;
    EXPECT_EQ(Reason(status), "TEAM_NOT_ALLOWED") << name;
    EXPECT_THAT(status.error_message(), HasSubstr("inbox-b")) << name;
    // Allowed callers get past the gate (whatever the RPC then answers).
    for (auto* stub : {team_a.get(), &channeld_->stub()}) {
      status = call(*stub, "team-a");
      EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << name;
      EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << name;
    }
  }
}

TEST_F(SecurityTest, AnotherTeamNeverLearnsOfABinding) {
  v1::BindChannelResponse bound;
  ASSERT_TRUE(channeld_->stub()
                  .BindChannel(Context().get(), BindRequestFor(Channel1(), "team-a"), &bound)
                  .ok());
  auto token = channeld_->AddCaller("inbox-b", "team-b");
  ASSERT_TRUE(token.ok());
  auto team_b = channeld_->StubWithToken(*token);
  // Asking about team-a's channel as team-b: the same NOT_FOUND as for a channel nobody has.
  v1::GetChannelRequest request;
  request.set_team_id("team-b");
  request.set_channel_id(Channel1().channel_id);
  v1::Channel channel;
  const grpc::Status others = team_b->GetChannel(Context().get(), request, &channel);
  request.set_channel_id("1999999999");
  const grpc::Status nobody = team_b->GetChannel(Context().get(), request, &channel);
  EXPECT_EQ(others.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(others.error_message(), nobody.error_message());
  EXPECT_EQ(others.error_details(), nobody.error_details());
}

TEST_F(SecurityTest, AdminRpcsAreForAdminsOnly) {
  auto token = channeld_->AddCaller("inbox-a", "team-a");
  ASSERT_TRUE(token.ok());
  auto team_caller = channeld_->AdminStubWithToken(*token);
  auto nobody = channeld_->AdminStubWithToken("");
  v1::ListSealingKeysResponse keys;
  grpc::Status status =
      team_caller->ListSealingKeys(Context().get(), v1::ListSealingKeysRequest(), &keys);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Reason(status), "ADMIN_ONLY");
  status = nobody->ListSealingKeys(Context().get(), v1::ListSealingKeysRequest(), &keys);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  v1::RotateSealingKeyResponse rotated;
  status = team_caller->RotateSealingKey(Context().get(), v1::RotateSealingKeyRequest(), &rotated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  status =
      channeld_->admin_stub().ListSealingKeys(Context().get(), v1::ListSealingKeysRequest(), &keys);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(keys.keys_size(), 1);
}

TEST_F(SecurityTest, TheFirstStartWritesHashedCallersAndAPrivateAdminToken) {
  const std::string callers = ReadFile(channeld_->data_dir() + "/callers");
  EXPECT_THAT(callers, HasSubstr("caller admin sha256:"));
  EXPECT_THAT(callers, Not(HasSubstr(channeld_->admin_token())));
  EXPECT_GE(channeld_->admin_token().size(), 40u);
  for (const std::string file : {"/callers", "/admin.token", "/sealing.key", "/channeld.db"}) {
    struct stat info;
    ASSERT_EQ(stat((channeld_->data_dir() + file).c_str(), &info), 0) << file;
    EXPECT_EQ(info.st_mode & 077, 0u) << file << " is readable by others";
  }
  // A callers file that is malformed on reload keeps the old callers.
  std::ofstream(channeld_->data_dir() + "/callers", std::ios::app) << "caller broken\n";
  v1::ReloadCallersResponse reloaded;
  const grpc::Status status =
      channeld_->admin_stub().ReloadCallers(Context().get(), v1::ReloadCallersRequest(), &reloaded);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::ListChannelsRequest list;
  list.set_team_id("team-a");
  v1::ListChannelsResponse listed;
  EXPECT_TRUE(channeld_->stub().ListChannels(Context().get(), list, &listed).ok());
}

TEST_F(SecurityTest, AuditRowsNameTheCaller) {
  auto token = channeld_->AddCaller("inbox-a", "team-a");
  ASSERT_TRUE(token.ok());
  auto team_a = channeld_->StubWithToken(*token);
  v1::BindChannelResponse bound;
  ASSERT_TRUE(
      team_a->BindChannel(Context().get(), BindRequestFor(Channel1(), "team-a"), &bound).ok());
  v1::UnbindChannelRequest unbind;
  unbind.set_team_id("team-a");
  unbind.set_channel_id(Channel1().channel_id);
  v1::UnbindChannelResponse unbound;
  ASSERT_TRUE(channeld_->stub().UnbindChannel(Context().get(), unbind, &unbound).ok());
  SQLite::Database db(channeld_->db_path(), SQLite::OPEN_READONLY);
  SQLite::Statement audit(db, "SELECT action, actor FROM audit_log ORDER BY id");
  std::vector<std::string> rows;
  while (audit.executeStep()) {
    rows.push_back(
        absl::StrCat(audit.getColumn(0).getString(), " by ", audit.getColumn(1).getString()));
  }
  EXPECT_THAT(rows, ::testing::ElementsAre("bind by inbox-a", "unbind by admin"));
}

TEST_F(SecurityTest, CanarySecretsAndTokensAppearNowhere) {
  // Everything that passes secrets through: binds, refusals, updates, webhooks, verification.
  v1::BindChannelRequest request = BindRequestFor(Channel1(), "team-a");
  request.set_set_webhook_url(true);
  v1::BindChannelResponse bound;
  ASSERT_TRUE(channeld_->stub().BindChannel(Context().get(), request, &bound).ok());
  v1::BindChannelRequest wrong = BindRequestFor(Channel2(), "team-a");
  wrong.set_channel_secret(Channel3().secret);
  wrong.set_channel_access_token(Channel3().token);
  v1::BindChannelResponse refused;
  const grpc::Status refusal = channeld_->stub().BindChannel(Context().get(), wrong, &refused);
  EXPECT_FALSE(refusal.ok());
  v1::UpdateCredentialsRequest update;
  update.set_team_id("team-a");
  update.set_channel_id(Channel1().channel_id);
  update.set_channel_secret(Channel2().secret);
  v1::UpdateCredentialsResponse updated;
  const grpc::Status update_refusal =
      channeld_->stub().UpdateCredentials(Context().get(), update, &updated);
  EXPECT_FALSE(update_refusal.ok());
  ASSERT_TRUE(line_
                  ->Control("POST", "/fake/channels/" + Channel1().channel_id + "/webhooks",
                            R"({"generate":{"count":3}})")
                  .ok());
  // A webhook signed with a wrong secret: refused and counted, never logged with the secret.
  ASSERT_TRUE(line_
                  ->Control("POST", "/fake/channels/" + Channel1().channel_id + "/webhooks",
                            absl::StrCat(R"({"secret":")", Channel3().secret, R"("})"))
                  .ok());
  v1::VerifyWebhookRequest verify;
  verify.set_team_id("team-a");
  verify.set_channel_id(Channel1().channel_id);
  v1::VerifyWebhookResponse verified;
  ASSERT_TRUE(channeld_->stub().VerifyWebhook(Context().get(), verify, &verified).ok());
  v1::RotateSealingKeyResponse rotated;
  ASSERT_TRUE(channeld_->admin_stub()
                  .RotateSealingKey(Context().get(), v1::RotateSealingKeyRequest(), &rotated)
                  .ok());

  auto metrics = HttpCall("GET", "http://" + channeld_->admin_address() + "/metrics");
  ASSERT_TRUE(metrics.ok());
  const std::string db = channeld_->db_path();
  std::vector<std::pair<std::string, std::string>> places = {
      {"refusal", refusal.error_message() + refusal.error_details()},
      {"update refusal", update_refusal.error_message() + update_refusal.error_details()},
      {"bind response", bound.SerializeAsString()},
      {"verify response", verified.SerializeAsString()},
      {"metrics", metrics->body},
      {"database", ReadFile(db)},
      {"wal", ReadFile(db + "-wal")},
      {"log", channeld_->ReadLog()}};
  ASSERT_TRUE(channeld_->Stop().ok());
  places.emplace_back("database after stop", ReadFile(db));
  places.emplace_back("log after stop", channeld_->ReadLog());
  for (const auto& [where, text] : places) {
    for (const FixtureChannel* c : {&Channel1(), &Channel2(), &Channel3()}) {
      EXPECT_THAT(text, Not(HasSubstr(c->secret))) << where;
      EXPECT_THAT(text, Not(HasSubstr(c->token.substr(0, 40)))) << where;
    }
    EXPECT_THAT(text, Not(HasSubstr(channeld_->admin_token()))) << where;
  }
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = GenerateTestPki();
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
    const auto write = [this](const std::string& name, const std::string& text) {
      std::ofstream(dir_.File(name)) << text;
      chmod(dir_.File(name).c_str(), 0600);
      return dir_.File(name);
    };
    ca_ = write("ca.pem", pki_.ca_certificate_pem);
    cert_ = write("server.pem", pki_.server_certificate_pem);
    key_ = write("server.key", pki_.server_private_key_pem);
    auto line = FakeLine::Start({"--webhook_ca_file=" + ca_});
    ASSERT_TRUE(line.ok()) << line.status();
    line_ = *std::move(line);
  }

  TempDir dir_;
  TestPki pki_;
  std::string ca_, cert_, key_;
  std::unique_ptr<FakeLine> line_;
};

TEST_F(TlsTest, BothPortsServeTlsAndClientCertificatesCanBeRequired) {
  // The public URL names the host the certificate is for, so the port must be known first.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const int port = probe.local_endpoint().port();
  probe.close();
  auto channeld =
      Channeld::Start({line_->base_url(),
                       {"--grpc_tls_cert_file=" + cert_, "--grpc_tls_key_file=" + key_,
                        "--webhook_tls_cert_file=" + cert_, "--webhook_tls_key_file=" + key_,
                        absl::StrCat("--webhook_listen=127.0.0.1:", port),
                        absl::StrCat("--public_base_url=https://localhost:", port)},
                       pki_.ca_certificate_pem});
  ASSERT_TRUE(channeld.ok()) << channeld.status();

  // gRPC over TLS, the server's certificate checked against the test CA.
  v1::BindChannelRequest request = BindRequestFor(Channel1(), "team-a");
  request.set_set_webhook_url(true);
  v1::BindChannelResponse bound;
  grpc::Status status = (*channeld)->stub().BindChannel(Context().get(), request, &bound);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(bound.channel().webhook_url(), HasSubstr("https://localhost:"));

  // A plain-text client gets nowhere.
  auto plain = v1::ChannelService::NewStub(
      grpc::CreateChannel((*channeld)->grpc_address(), grpc::InsecureChannelCredentials()));
  v1::Channel channel;
  v1::GetChannelRequest get;
  get.set_team_id("team-a");
  get.set_channel_id(Channel1().channel_id);
  EXPECT_EQ(plain->GetChannel(Context(absl::Seconds(3)).get(), get, &channel).error_code(),
            grpc::StatusCode::UNAVAILABLE);

  // LINE (the fake) delivers over HTTPS, checking our certificate with the test CA.
  auto sent = line_->Control("POST", "/fake/channels/" + Channel1().channel_id + "/webhooks",
                             R"({"generate":{"count":2}})");
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(JsonField(sent->body, "/status"), "200") << sent->body;
  v1::VerifyWebhookRequest verify;
  verify.set_team_id("team-a");
  verify.set_channel_id(Channel1().channel_id);
  v1::VerifyWebhookResponse verified;
  ASSERT_TRUE((*channeld)->stub().VerifyWebhook(Context().get(), verify, &verified).ok());
  EXPECT_EQ(verified.verdict(), v1::OK) << verified.summary();
}

TEST_F(TlsTest, RequiredClientCertificatesKeepOutCallersWithoutOne) {
  auto channeld = Channeld::Start({line_->base_url(),
                                   {"--grpc_tls_cert_file=" + cert_, "--grpc_tls_key_file=" + key_,
                                    "--grpc_tls_client_ca_file=" + ca_},
                                   pki_.ca_certificate_pem});
  ASSERT_TRUE(channeld.ok()) << channeld.status();
  v1::ListChannelsRequest list;
  list.set_team_id("team-a");
  v1::ListChannelsResponse listed;
  // Server certificate trusted, but no client certificate.
  EXPECT_EQ(
      (*channeld)->stub().ListChannels(Context(absl::Seconds(3)).get(), list, &listed).error_code(),
      grpc::StatusCode::UNAVAILABLE);
  // With the client certificate the CA signed.
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = pki_.ca_certificate_pem;
  ssl.pem_cert_chain = pki_.client_certificate_pem;
  ssl.pem_private_key = pki_.client_private_key_pem;
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  auto stub = v1::ChannelService::NewStub(
      grpc::CreateCustomChannel((*channeld)->grpc_address(), grpc::SslCredentials(ssl), args));
  auto context = Context();
  context->AddMetadata("authorization", "Bearer " + (*channeld)->admin_token());
  const grpc::Status status = stub->ListChannels(context.get(), list, &listed);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

}  // namespace
}  // namespace linechannel::testing
