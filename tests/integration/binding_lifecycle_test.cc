// The binding lifecycle over real gRPC against the real channeld, with the fake LINE platform
// playing LINE, both as real processes on loopback.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/support/json_field.h"
#include "tests/support/matchers.h"

namespace linechannel::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class BindingLifecycleTest : public ServiceTest {
 protected:
  grpc::Status Bind(const v1::BindChannelRequest& request, v1::BindChannelResponse* response) {
    return channeld_->stub().BindChannel(Context().get(), request, response);
  }

  grpc::Status Get(const std::string& team, const std::string& channel, v1::Channel* out) {
    v1::GetChannelRequest request;
    request.set_team_id(team);
    request.set_channel_id(channel);
    return channeld_->stub().GetChannel(Context().get(), request, out);
  }

  grpc::Status Unbind(const std::string& team, const std::string& channel,
                      v1::UnbindChannelResponse* out) {
    v1::UnbindChannelRequest request;
    request.set_team_id(team);
    request.set_channel_id(channel);
    return channeld_->stub().UnbindChannel(Context().get(), request, out);
  }

  std::vector<v1::Channel> List(const std::string& team, bool include_unbound = true) {
    v1::ListChannelsRequest request;
    request.set_team_id(team);
    request.set_include_unbound(include_unbound);
    v1::ListChannelsResponse response;
    const grpc::Status status = channeld_->stub().ListChannels(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.channels().begin(), response.channels().end()};
  }
};

TEST_F(BindingLifecycleTest, BindGetUpdateUnbind) {
  v1::BindChannelResponse bound;
  grpc::Status status = Bind(BindRequestFor(Channel1(), "team-a"), &bound);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(bound.already_bound());
  const v1::Channel& channel = bound.channel();
  EXPECT_EQ(channel.team_id(), "team-a");
  EXPECT_EQ(channel.channel_id(), Channel1().channel_id);
  EXPECT_EQ(channel.line_id(), "111aaaaa");
  EXPECT_EQ(channel.bot_user_id(), Channel1().bot_user_id);
  EXPECT_EQ(channel.bot_display_name(), "Shop One");
  EXPECT_EQ(channel.state(), v1::ACTIVE);
  EXPECT_TRUE(channel.verified_with_line());
  EXPECT_EQ(channel.channel_secret_hint(), "…d4d4");
  EXPECT_EQ(channel.access_token_hint(), "…111=");
  EXPECT_THAT(channel.webhook_url(), IsWebhookUrlOf("http://" + channeld_->webhook_address()));

  // LINE really was asked: one stateless token, one verify, one bot info.
  auto calls = line_->Control("GET", "/fake/channels/" + Channel1().channel_id);
  ASSERT_TRUE(calls.ok());
  EXPECT_EQ(JsonField(calls->body, "/calls/token"), "1") << calls->body;
  EXPECT_EQ(JsonField(calls->body, "/calls/verify"), "1");
  EXPECT_EQ(JsonField(calls->body, "/calls/bot_info"), "1");

  v1::Channel got;
  ASSERT_TRUE(Get("team-a", Channel1().channel_id, &got).ok());
  EXPECT_EQ(got.binding_id(), channel.binding_id());
  EXPECT_EQ(got.webhook_url(), channel.webhook_url());

  v1::GetWebhookUrlRequest url_request;
  url_request.set_team_id("team-a");
  url_request.set_channel_id(Channel1().channel_id);
  v1::GetWebhookUrlResponse url;
  ASSERT_TRUE(channeld_->stub().GetWebhookUrl(Context().get(), url_request, &url).ok());
  EXPECT_EQ(url.webhook_url(), channel.webhook_url());

  // The secret is reissued in the console; the team stores the new one.
  auto reissued = line_->Control("PATCH", "/fake/channels/" + Channel1().channel_id,
                                 R"({"reissue_secret":true})");
  ASSERT_TRUE(reissued.ok());
  const std::string new_secret = JsonField(reissued->body, "/channel_secret");
  ASSERT_EQ(new_secret.size(), 32u) << reissued->body;
  v1::UpdateCredentialsRequest update;
  update.set_team_id("team-a");
  update.set_channel_id(Channel1().channel_id);
  update.set_channel_secret(Channel2().secret);  // Not this channel's: LINE refuses it.
  v1::UpdateCredentialsResponse updated;
  status = channeld_->stub().UpdateCredentials(Context().get(), update, &updated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(status), "SECRET_REJECTED");
  update.set_channel_secret(new_secret);
  status = channeld_->stub().UpdateCredentials(Context().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.channel().channel_secret_hint(), "…" + new_secret.substr(28));
  EXPECT_EQ(updated.channel().webhook_url(), channel.webhook_url());

  v1::UnbindChannelResponse unbound;
  ASSERT_TRUE(Unbind("team-a", Channel1().channel_id, &unbound).ok());
  EXPECT_EQ(unbound.channel().state(), v1::UNBOUND);
  EXPECT_TRUE(unbound.channel().has_unbind_time());

  status = Get("team-a", Channel1().channel_id, &got);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Reason(status), "BINDING_NOT_FOUND");
  status = Unbind("team-a", Channel1().channel_id, &unbound);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);

  const std::vector<v1::Channel> history = List("team-a");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].state(), v1::UNBOUND);
  EXPECT_THAT(List("team-a", /*include_unbound=*/false), IsEmpty());
}

TEST_F(BindingLifecycleTest, EveryMismatchHasItsOwnReasonAndStoresNothing) {
  struct Case {
    std::string name;
    v1::BindChannelRequest request;
    std::string reason;
  };
  std::vector<Case> cases;
  v1::BindChannelRequest r = BindRequestFor(Channel1(), "team-a");
  r.set_channel_secret(Channel2().secret);
  cases.push_back({"secret of another channel", r, "SECRET_REJECTED"});
  r = BindRequestFor(Channel1(), "team-a");
  r.set_channel_access_token(Channel2().token);
  cases.push_back({"token of another channel", r, "TOKEN_CHANNEL_MISMATCH"});
  r = BindRequestFor(Channel1(), "team-a");
  r.set_channel_access_token("made-up-token-ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ");
  cases.push_back({"unknown token", r, "TOKEN_REJECTED"});
  r = BindRequestFor(Channel1(), "team-a");
  r.set_line_id(Channel2().line_id);
  cases.push_back({"LINE ID of another OA", r, "LINE_ID_MISMATCH"});

  for (const Case& c : cases) {
    v1::BindChannelResponse response;
    const grpc::Status status = Bind(c.request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << c.name;
    EXPECT_EQ(Reason(status), c.reason) << c.name << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), Not(HasSubstr(Channel2().secret))) << c.name;
    EXPECT_THAT(status.error_message(), Not(HasSubstr(Channel2().token))) << c.name;
  }

  // A token revoked in the console.
  ASSERT_TRUE(
      line_
          ->Control("PATCH", "/fake/channels/" + Channel3().channel_id, R"({"token_revoked":true})")
          .ok());
  v1::BindChannelResponse response;
  const grpc::Status revoked = Bind(BindRequestFor(Channel3(), "team-a"), &response);
  EXPECT_EQ(Reason(revoked), "TOKEN_REJECTED") << revoked.error_message();
  EXPECT_THAT(revoked.error_message(), HasSubstr("Issue a long-lived channel access token"));

  EXPECT_THAT(List("team-a"), IsEmpty());
}

TEST_F(BindingLifecycleTest, ThePremiumIdBindsToo) {
  v1::BindChannelRequest request = BindRequestFor(Channel1(), "team-a");
  request.set_line_id("@Shop-One");
  v1::BindChannelResponse response;
  const grpc::Status status = Bind(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.channel().line_id(), "shop-one");
}

TEST_F(BindingLifecycleTest, LineDownSlowOrLimitingIsUnavailableAndStoresNothing) {
  for (const char* fault : {R"({"fail_status":500})", R"({"fail_status":503})",
                            R"({"fail_status":429})", R"({"delay_ms":5000})"}) {
    ASSERT_TRUE(line_->Control("PATCH", "/fake/faults", fault).ok());
    v1::BindChannelResponse response;
    const grpc::Status status = Bind(BindRequestFor(Channel1(), "team-a"), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << fault;
    EXPECT_EQ(Reason(status), "LINE_UNAVAILABLE") << fault << ": " << status.error_message();
  }
  ASSERT_TRUE(line_->Control("PATCH", "/fake/faults", R"({"fail_status":0,"delay_ms":0})").ok());
  EXPECT_THAT(List("team-a"), IsEmpty());
  // LINE back: binding works.
  v1::BindChannelResponse response;
  EXPECT_TRUE(Bind(BindRequestFor(Channel1(), "team-a"), &response).ok());
}

TEST_F(BindingLifecycleTest, LineUnreachableIsUnavailable) {
  auto closed = Channeld::Start({"http://127.0.0.1:1", {}});
  ASSERT_TRUE(closed.ok()) << closed.status();
  v1::BindChannelResponse response;
  const grpc::Status status =
      (*closed)->stub().BindChannel(Context().get(), BindRequestFor(Channel1(), "t"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Reason(status), "LINE_UNAVAILABLE");
}

TEST_F(BindingLifecycleTest, AnotherTeamIsRefusedAndAnyTeamMayBindAfterUnbind) {
  v1::BindChannelResponse first;
  ASSERT_TRUE(Bind(BindRequestFor(Channel1(), "team-a"), &first).ok());

  // The same team, same values: the same binding back.
  v1::BindChannelResponse again;
  ASSERT_TRUE(Bind(BindRequestFor(Channel1(), "team-a"), &again).ok());
  EXPECT_TRUE(again.already_bound());
  EXPECT_EQ(again.channel().binding_id(), first.channel().binding_id());

  v1::BindChannelResponse refused;
  grpc::Status status = Bind(BindRequestFor(Channel1(), "team-b"), &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Reason(status), "OA_BOUND_TO_OTHER_TEAM");
  EXPECT_THAT(status.error_message(), HasSubstr("Unbind it in that team first"));
  EXPECT_THAT(status.error_message() + status.error_details(), Not(HasSubstr("team-a")));

  // team-b cannot see or touch team-a's binding: the same answer as for a missing one.
  v1::Channel got;
  const grpc::Status others = Get("team-b", Channel1().channel_id, &got);
  const grpc::Status missing = Get("team-b", Channel3().channel_id, &got);
  EXPECT_EQ(others.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(others.error_message(), missing.error_message());
  EXPECT_EQ(others.error_details(), missing.error_details());

  v1::UnbindChannelResponse unbound;
  ASSERT_TRUE(Unbind("team-a", Channel1().channel_id, &unbound).ok());
  v1::BindChannelResponse second;
  status = Bind(BindRequestFor(Channel1(), "team-b"), &second);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(second.channel().team_id(), "team-b");
  EXPECT_NE(second.channel().webhook_url(), first.channel().webhook_url());
  EXPECT_NE(second.channel().binding_id(), first.channel().binding_id());
}

TEST_F(BindingLifecycleTest, InvalidRequestsNameEveryBadField) {
  v1::BindChannelRequest request;
  request.set_team_id("team a");
  request.set_channel_id("abc");
  v1::BindChannelResponse response;
  const grpc::Status status = Bind(request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Reason(status), "INVALID_FIELDS");
  EXPECT_THAT(ViolatedFields(status),
              ElementsAre("team_id", "app_name", "channel_id", "channel_secret",
                          "channel_access_token", "line_id"));

  v1::ListChannelsRequest list;
  list.set_team_id("t");
  list.set_page_size(5000);
  v1::ListChannelsResponse listed;
  const grpc::Status list_status = channeld_->stub().ListChannels(Context().get(), list, &listed);
  EXPECT_THAT(ViolatedFields(list_status), ElementsAre("page_size"));
}

TEST_F(BindingLifecycleTest, ListsPageByPage) {
  for (const FixtureChannel* c : {&Channel1(), &Channel2(), &Channel3()}) {
    v1::BindChannelResponse response;
    ASSERT_TRUE(Bind(BindRequestFor(*c, "team-a"), &response).ok());
  }
  std::vector<std::string> seen;
  v1::ListChannelsRequest request;
  request.set_team_id("team-a");
  request.set_page_size(2);
  int pages = 0;
  do {
    v1::ListChannelsResponse response;
    ASSERT_TRUE(channeld_->stub().ListChannels(Context().get(), request, &response).ok());
    for (const auto& c : response.channels()) seen.push_back(c.channel_id());
    request.set_page_token(response.next_page_token());
    ++pages;
  } while (!request.page_token().empty());
  EXPECT_EQ(pages, 2);
  EXPECT_THAT(seen,
              ElementsAre(Channel3().channel_id, Channel2().channel_id, Channel1().channel_id));
}

TEST_F(BindingLifecycleTest, ARestartKeepsEverything) {
  v1::BindChannelResponse first;
  ASSERT_TRUE(Bind(BindRequestFor(Channel1(), "team-a"), &first).ok());
  v1::BindChannelResponse second;
  ASSERT_TRUE(Bind(BindRequestFor(Channel2(), "team-a"), &second).ok());
  v1::UnbindChannelResponse unbound;
  ASSERT_TRUE(Unbind("team-a", Channel2().channel_id, &unbound).ok());

  ASSERT_TRUE(channeld_->Restart().ok());

  v1::Channel got;
  ASSERT_TRUE(Get("team-a", Channel1().channel_id, &got).ok());
  EXPECT_EQ(got.binding_id(), first.channel().binding_id());
  EXPECT_EQ(got.channel_secret_hint(), first.channel().channel_secret_hint());
  EXPECT_EQ(got.bot_user_id(), Channel1().bot_user_id);
  const std::vector<v1::Channel> all = List("team-a");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].state(), v1::UNBOUND);
  // The sealed secrets still open after the restart: a repeat bind compares them.
  v1::BindChannelResponse again;
  ASSERT_TRUE(Bind(BindRequestFor(Channel1(), "team-a"), &again).ok());
  EXPECT_TRUE(again.already_bound());
}

TEST_F(BindingLifecycleTest, ConcurrentBindsOfOneOaFromFiftyTeamsHaveOneWinner) {
  constexpr int kCalls = 200;
  constexpr int kTeams = 50;
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<v1::BindChannelResponse> responses(kCalls);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      const v1::BindChannelRequest request =
          BindRequestFor(Channel1(), absl::StrCat("team-", i % kTeams));
      while (!go) std::this_thread::yield();
      statuses[i] = channeld_->stub().BindChannel(Context().get(), request, &responses[i]);
    });
  }
  go = true;
  for (auto& t : threads) t.join();

  int created = 0;
  std::string winner;
  for (int i = 0; i < kCalls; ++i) {
    if (statuses[i].ok() && !responses[i].already_bound()) {
      ++created;
      winner = responses[i].channel().team_id();
    }
  }
  ASSERT_EQ(created, 1);
  // Every other answer: the winner's own repeats get the binding back (idempotent), every
  // other team is refused. Nothing else: no INTERNAL, no UNAVAILABLE.
  std::map<std::string, int> outcomes;
  for (int i = 0; i < kCalls; ++i) {
    const std::string team = absl::StrCat("team-", i % kTeams);
    if (statuses[i].ok()) {
      EXPECT_EQ(team, winner);
      ++outcomes[responses[i].already_bound() ? "repeat" : "created"];
    } else {
      EXPECT_NE(team, winner);
      EXPECT_EQ(statuses[i].error_code(), grpc::StatusCode::ALREADY_EXISTS)
          << statuses[i].error_message();
      EXPECT_EQ(Reason(statuses[i]), "OA_BOUND_TO_OTHER_TEAM");
      ++outcomes["refused"];
    }
  }
  EXPECT_EQ(outcomes["created"], 1);
  EXPECT_EQ(outcomes["repeat"], kCalls / kTeams - 1);
  EXPECT_EQ(outcomes["refused"], kCalls - kCalls / kTeams);
  int active = 0;
  for (int t = 0; t < kTeams; ++t)
    active += static_cast<int>(List(absl::StrCat("team-", t)).size());
  EXPECT_EQ(active, 1);
}

TEST_F(BindingLifecycleTest, NoSecretOrTokenIsEverAtRestOrInTheLog) {
  for (const FixtureChannel* c : {&Channel1(), &Channel2()}) {
    v1::BindChannelResponse response;
    ASSERT_TRUE(Bind(BindRequestFor(*c, "team-a"), &response).ok());
  }
  // A refused bind and a credential update also pass secrets through.
  v1::BindChannelRequest wrong = BindRequestFor(Channel3(), "team-a");
  wrong.set_channel_secret(Channel2().secret);
  v1::BindChannelResponse response;
  EXPECT_FALSE(Bind(wrong, &response).ok());
  v1::UpdateCredentialsRequest update;
  update.set_team_id("team-a");
  update.set_channel_id(Channel1().channel_id);
  update.set_channel_access_token(Channel1().token);
  v1::UpdateCredentialsResponse updated;
  ASSERT_TRUE(channeld_->stub().UpdateCredentials(Context().get(), update, &updated).ok());

  // Read the files while the server still runs (WAL not yet checkpointed) and after it stops.
  const std::string db = channeld_->db_path();
  std::vector<std::string> snapshots = {ReadFile(db), ReadFile(db + "-wal"), ReadFile(db + "-shm"),
                                        channeld_->ReadLogOnceItHas("\"event\":\"rpc\"")};
  ASSERT_TRUE(channeld_->Stop().ok());
  snapshots.push_back(ReadFile(db));
  snapshots.push_back(channeld_->ReadLog());
  EXPECT_GT(snapshots[0].size() + snapshots[1].size(), 0u);
  EXPECT_THAT(snapshots[3], HasSubstr("\"event\":\"rpc\""));
  for (const std::string& file : snapshots) {
    for (const FixtureChannel* c : {&Channel1(), &Channel2(), &Channel3()}) {
      EXPECT_EQ(file.find(c->secret), std::string::npos) << "secret of " << c->channel_id;
      EXPECT_EQ(file.find(c->token), std::string::npos) << "token of " << c->channel_id;
      // Not even a long piece of the token.
      EXPECT_EQ(file.find(c->token.substr(0, 40)), std::string::npos);
    }
  }
}

TEST_F(BindingLifecycleTest, HealthAndShutdown) {
  auto channel = grpc::CreateChannel(channeld_->grpc_address(), grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(Context().get(), {}, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  auto exit = channeld_->Stop();
  ASSERT_TRUE(exit.ok());
  EXPECT_TRUE(WIFEXITED(*exit) && WEXITSTATUS(*exit) == 0) << *exit;
  EXPECT_THAT(ReadFile(channeld_->log_path()), HasSubstr("\"event\":\"stopped\""));
}

class StartupTest : public ::testing::Test {};

TEST_F(StartupTest, RefusesToStartWithoutTheKeyThatSealedTheDatabase) {
  auto line = FakeLine::Start();
  ASSERT_TRUE(line.ok());
  auto channeld = Channeld::Start({(*line)->base_url(), {}});
  ASSERT_TRUE(channeld.ok());
  v1::BindChannelResponse response;
  ASSERT_TRUE((*channeld)
                  ->stub()
                  .BindChannel(Context().get(), BindRequestFor(Channel1(), "t"), &response)
                  .ok());
  const std::string key_file = (*channeld)->data_dir() + "/sealing.key";
  const std::string original = ReadFile(key_file);

  // Missing key file.
  ASSERT_EQ(std::rename(key_file.c_str(), (key_file + ".bak").c_str()), 0);
  absl::Status restarted = (*channeld)->Restart();
  EXPECT_FALSE(restarted.ok());
  EXPECT_THAT(std::string(restarted.message()), HasSubstr("restore the key file"));

  // Another key under the same id.
  std::vector<std::string> lines = absl::StrSplit(original, '\n');
  std::string forged;
  for (const std::string& l : lines) {
    if (l.rfind("key ", 0) == 0) {
      std::vector<std::string> words = absl::StrSplit(l, ' ');
      forged += words[0] + " " + words[1] + " AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    } else if (!l.empty()) {
      forged += l + "\n";
    }
  }
  {
    std::FILE* f = std::fopen(key_file.c_str(), "w");
    std::fputs(forged.c_str(), f);
    std::fclose(f);
    chmod(key_file.c_str(), 0600);
  }
  restarted = (*channeld)->Restart();
  EXPECT_FALSE(restarted.ok());
  EXPECT_THAT(std::string(restarted.message()), HasSubstr("does not fit the database"));

  // A key file others can read.
  ASSERT_EQ(std::rename((key_file + ".bak").c_str(), key_file.c_str()), 0);
  chmod(key_file.c_str(), 0644);
  restarted = (*channeld)->Restart();
  EXPECT_FALSE(restarted.ok());
  EXPECT_THAT(std::string(restarted.message()), HasSubstr("chmod 600"));

  // The right key: it starts and the binding is there.
  chmod(key_file.c_str(), 0600);
  ASSERT_TRUE((*channeld)->Restart().ok());
  v1::GetChannelRequest get;
  get.set_team_id("t");
  get.set_channel_id(Channel1().channel_id);
  v1::Channel got;
  EXPECT_TRUE((*channeld)->stub().GetChannel(Context().get(), get, &got).ok());
}

TEST_F(StartupTest, RefusesASecondServerOnTheSameDataDirectoryAndBadFlags) {
  auto first = Channeld::Start({"http://127.0.0.1:1", {}});
  ASSERT_TRUE(first.ok());
  auto second = Channeld::Start({"http://127.0.0.1:1", {"--data_dir=" + (*first)->data_dir()}});
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("already using data directory"));

  for (const std::string& flag :
       {std::string("--line_checks=sometimes"), std::string("--public_base_url=ftp://x"),
        std::string("--public_base_url=https://x.example/"),
        "--public_base_url=https://" + std::string(460, 'x') + ".example"}) {
    auto bad = Channeld::Start({"http://127.0.0.1:1", {flag}});
    EXPECT_FALSE(bad.ok()) << flag;
  }
}

TEST_F(StartupTest, OnlyTheTestBuildHasTestHooks) {
  TempDir dir;
  ChildProcess::Options options;
  options.argv = {CHANNELD_PATH,
                  "--enable_test_hooks",
                  "--grpc_listen=127.0.0.1:0",
                  "--webhook_listen=127.0.0.1:0",
                  "--admin_listen=127.0.0.1:0",
                  "--line_checks=off",
                  "--data_dir=" + dir.File("d")};
  options.stderr_path = dir.File("log");
  auto process = ChildProcess::Start(options);
  ASSERT_TRUE(process.ok());
  auto exit = (*process)->Wait();
  ASSERT_TRUE(exit.ok()) << exit.status();
  EXPECT_NE(*exit, 0);
  EXPECT_THAT(ReadFile(dir.File("log")),
              HasSubstr("production build and has no test hooks; tests run channeld_test_hooks"));
  for (const std::string& line : (*process)->Lines()) {
    EXPECT_THAT(line, Not(HasSubstr("channeld ready")));
  }

  // The test build starts with them.
  auto hooked = Channeld::Start(
      {"http://127.0.0.1:1", {"--enable_test_hooks"}, "", CHANNELD_TEST_HOOKS_PATH});
  ASSERT_TRUE(hooked.ok()) << hooked.status();
  EXPECT_THAT((*hooked)->ReadLog(), HasSubstr("test_hooks_on"));
}

TEST_F(StartupTest, FlagsCanComeFromTheEnvironment) {
  ChildProcess::Options options;
  TempDir dir;
  options.argv = {CHANNELD_PATH, "--grpc_listen=127.0.0.1:0", "--webhook_listen=127.0.0.1:0",
                  "--admin_listen=127.0.0.1:0", "--data_dir=" + dir.File("d")};
  options.env = {"CHANNELD_PUBLIC_BASE_URL=https://hooks.example.com", "CHANNELD_LINE_CHECKS=off"};
  options.stderr_path = dir.File("log");
  auto process = ChildProcess::Start(options);
  ASSERT_TRUE(process.ok());
  ASSERT_TRUE((*process)->WaitForLine("channeld ready").ok()) << ReadFile(dir.File("log"));
  const std::string log = ReadFile(dir.File("log"));
  EXPECT_THAT(log, HasSubstr("\"public_base_url\":\"https://hooks.example.com\""));
  EXPECT_THAT(log, HasSubstr("\"line_checks\":\"off\""));
}

}  // namespace
}  // namespace linechannel::testing
