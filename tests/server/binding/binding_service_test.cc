#include "server/binding/binding_service.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/errors.h"
#include "storage/cache/caching_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/server/fakes.h"
#include "tests/support/matchers.h"
#include "tests/support/temp_dir.h"

namespace linechannel::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kChannel[] = "1656000001";
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";
constexpr char kToken[] = "long-lived-token-of-channel-one-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
constexpr char kBotUser[] = "U0123456789abcdef0123456789abcdef";

constexpr char kOtherChannel[] = "1656000002";
constexpr char kOtherSecret[] = "fedcba9876543210fedcba9876543210";
constexpr char kOtherToken[] =
    "long-lived-token-of-channel-two-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

// Forwards to another store, except that unbinding fails as a full disk would.
class UnbindFailingStore : public storage::BindingStore {
 public:
  explicit UnbindFailingStore(storage::BindingStore* store) : store_(store) {}
  absl::StatusOr<storage::Binding> InsertActive(const storage::Binding& binding,
                                                const storage::Change& change,
                                                storage::Binding* conflict) override {
    return store_->InsertActive(binding, change, conflict);
  }
  absl::StatusOr<storage::Binding> FindActive(absl::string_view team_id,
                                              absl::string_view channel_id) override {
    return store_->FindActive(team_id, channel_id);
  }
  absl::StatusOr<storage::Binding> FindActiveByWebhookKey(absl::string_view key) override {
    return store_->FindActiveByWebhookKey(key);
  }
  absl::StatusOr<storage::BindingPage> ListTeam(absl::string_view team_id, bool include_unbound,
                                                int64_t after_row_id, int limit) override {
    return store_->ListTeam(team_id, include_unbound, after_row_id, limit);
  }
  absl::StatusOr<storage::Binding> MarkUnbound(absl::string_view, absl::string_view,
                                               const storage::Change&) override {
    return absl::UnavailableError("disk full");
  }
  absl::StatusOr<storage::Binding> ReplaceCredentials(int64_t row_id,
                                                      const storage::CredentialUpdate& update,
                                                      const storage::Change& change) override {
    return store_->ReplaceCredentials(row_id, update, change);
  }
  absl::StatusOr<std::vector<storage::AuditRecord>> ListAudit(int64_t row_id) override {
    return store_->ListAudit(row_id);
  }
  absl::StatusOr<storage::AuditPage> ListTeamAudit(absl::string_view team_id,
                                                   absl::string_view channel_id, int64_t before_id,
                                                   int limit) override {
    return store_->ListTeamAudit(team_id, channel_id, before_id, limit);
  }
  absl::Status SetAttention(int64_t row_id, const std::vector<std::string>& reasons,
                            absl::Time checked_at) override {
    return store_->SetAttention(row_id, reasons, checked_at);
  }
  absl::StatusOr<storage::Binding> RecordProof(int64_t row_id, const storage::Proof& proof,
                                               const storage::Change& change,
                                               storage::Binding* conflict) override {
    return store_->RecordProof(row_id, proof, change, conflict);
  }
  absl::StatusOr<std::vector<storage::Binding>> ListActive(int64_t after_row_id,
                                                           int limit) override {
    return store_->ListActive(after_row_id, limit);
  }

 private:
  storage::BindingStore* const store_;
};

class BindingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    line_.AddChannel(kChannel, {kSecret, kToken, {kBotUser, "@123abcde", "@shop-a", "Shop A"}});
    line_.AddChannel(kOtherChannel, {kOtherSecret, kOtherToken, {"U2", "@999zzzzz", "", "Shop B"}});
    storage::SqliteStore::Options options;
    options.path = dir_.File("test.db");
    store_ = *storage::SqliteStore::Open(options);
    cache_ = std::make_unique<storage::CachingStore>(storage::AllRolesOf(*store_), 1000);
    sealer_ = std::make_unique<SecretSealer>(KeyRing::Generate(random_), &random_);
    Build(LineChecks::kRequired);
  }

  void Build(LineChecks checks) {
    verifier_ = std::make_unique<BindingVerifier>(&line_, checks);
    checks_ = std::make_unique<LineWebhookSettings>(&line_, cache_.get(), store_.get(),
                                                    cache_.get(), sealer_.get(), &clock_,
                                                    LineWebhookSettings::Options{});
    service_ = std::make_unique<BindingService>(cache_.get(), verifier_.get(), checks_.get(),
                                                sealer_.get(), &random_, &clock_,
                                                BindingService::Options{"https://hooks.example"});
  }

  static BindRequest Request(const std::string& team = "team-a") {
    BindRequest r;
    r.team_id = team;
    r.app_name = "Shop A app";
    r.channel_id = kChannel;
    r.channel_secret = Secret(kSecret);
    r.access_token = Secret(kToken);
    r.line_id = "@123ABCDE";
    return r;
  }

  absl::StatusOr<BindResult> Bind(const BindRequest& request) {
    return service_->Bind(request, CallContext{"tester", absl::InfiniteFuture()});
  }

  void ExpectNothingBound() {
    auto page = store_->ListTeam("team-a", true, 0, 10);
    ASSERT_TRUE(page.ok());
    EXPECT_THAT(page->bindings, SizeIs(0));
  }

  testing::TempDir dir_;
  FakeLineApi line_;
  FakeClock clock_;
  // In front of `store_`, as in the server.
  std::unique_ptr<storage::CachingStore> cache_;
  OpenSslRandom random_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<SecretSealer> sealer_;
  std::unique_ptr<BindingVerifier> verifier_;
  std::unique_ptr<LineWebhookSettings> checks_;
  std::unique_ptr<BindingService> service_;
};

void ExpectReason(const absl::Status& status, absl::StatusCode code, const std::string& reason) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(ErrorReason(status).value_or("<none>"), reason) << status;
}

TEST_F(BindingServiceTest, BindsAfterLineProvesTheValuesBelongTogether) {
  auto result = Bind(Request());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->already_bound);
  const storage::Binding& b = result->binding;
  EXPECT_EQ(b.team_id, "team-a");
  EXPECT_EQ(b.line_id, "123abcde");  // Normalized.
  EXPECT_EQ(b.bot_user_id, kBotUser);
  EXPECT_EQ(b.bot_display_name, "Shop A");
  EXPECT_TRUE(b.verified_with_line);
  EXPECT_EQ(b.channel_secret_hint, "…cdef");
  EXPECT_EQ(b.bound_by, "tester");
  EXPECT_EQ(b.bound_at, clock_.Now());

  const std::string url = service_->WebhookUrl(b);
  EXPECT_THAT(url, testing::IsWebhookUrlOf("https://hooks.example"));
  EXPECT_THAT(url, Not(HasSubstr(kChannel)));
  EXPECT_LE(url.size(), 500u);

  // Sealed, not plain, and opening to the originals.
  EXPECT_THAT(b.channel_secret.ciphertext, Not(HasSubstr(kSecret)));
  auto secret = sealer_->Unseal(b.channel_secret, SecretContext(kChannel));
  ASSERT_TRUE(secret.ok());
  EXPECT_EQ(secret->Reveal(), kSecret);

  auto audit = service_->Audit(b);
  ASSERT_TRUE(audit.ok());
  ASSERT_THAT(*audit, SizeIs(1));
  EXPECT_EQ((*audit)[0].action, "bind");
}

TEST_F(BindingServiceTest, ThePremiumIdAlsoIdentifiesTheOa) {
  BindRequest request = Request();
  request.line_id = "shop-a";
  auto result = Bind(request);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->binding.line_id, "shop-a");
}

TEST_F(BindingServiceTest, AWrongSecretIsSecretRejected) {
  BindRequest request = Request();
  request.channel_secret = Secret(kOtherSecret);
  auto result = Bind(request);
  ExpectReason(result.status(), absl::StatusCode::kFailedPrecondition, "SECRET_REJECTED");
  EXPECT_THAT(result.status().message(), HasSubstr("Basic settings"));
  EXPECT_THAT(result.status().message(), Not(HasSubstr(kOtherSecret)));
  ExpectNothingBound();
}

TEST_F(BindingServiceTest, AnInvalidTokenIsTokenRejected) {
  BindRequest request = Request();
  request.access_token = Secret("revoked-or-made-up-token-xxxxxxxxxxxxxxxxxxxxxxxxx");
  auto result = Bind(request);
  ExpectReason(result.status(), absl::StatusCode::kFailedPrecondition, "TOKEN_REJECTED");
  EXPECT_THAT(result.status().message(), Not(HasSubstr("made-up")));
  ExpectNothingBound();
}

TEST_F(BindingServiceTest, AnotherChannelsTokenIsTokenChannelMismatch) {
  BindRequest request = Request();
  request.access_token = Secret(kOtherToken);
  auto result = Bind(request);
  ExpectReason(result.status(), absl::StatusCode::kFailedPrecondition, "TOKEN_CHANNEL_MISMATCH");
  EXPECT_THAT(result.status().message(), HasSubstr(kOtherChannel));
  ExpectNothingBound();
}

TEST_F(BindingServiceTest, AnotherOasLineIdIsLineIdMismatch) {
  BindRequest request = Request();
  request.line_id = "@999zzzzz";
  auto result = Bind(request);
  ExpectReason(result.status(), absl::StatusCode::kFailedPrecondition, "LINE_ID_MISMATCH");
  EXPECT_THAT(result.status().message(), HasSubstr("@123abcde"));
  ExpectNothingBound();
}

TEST_F(BindingServiceTest, LineUnreachableOrLimitedIsRetryableAndStoresNothing) {
  for (const absl::Status& failure :
       {absl::UnavailableError("connect refused"), absl::ResourceExhaustedError("429")}) {
    line_.FailEveryCall(failure);
    auto result = Bind(Request());
    ExpectReason(result.status(), absl::StatusCode::kUnavailable, "LINE_UNAVAILABLE");
    EXPECT_TRUE(result.status().GetPayload("type.googleapis.com/google.rpc.RetryInfo"));
    ExpectNothingBound();
  }
}

TEST_F(BindingServiceTest, BestEffortBindsUnverifiedWhenLineIsUnreachableButNotWhenItSaysNo) {
  Build(LineChecks::kBestEffort);
  BindRequest wrong = Request();
  wrong.channel_secret = Secret(kOtherSecret);
  ExpectReason(Bind(wrong).status(), absl::StatusCode::kFailedPrecondition, "SECRET_REJECTED");

  line_.FailEveryCall(absl::UnavailableError("down"));
  auto result = Bind(Request());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->binding.verified_with_line);
  EXPECT_EQ(result->binding.bot_user_id, "");
}

TEST_F(BindingServiceTest, ChecksOffNeverAsksLine) {
  Build(LineChecks::kOff);
  BindRequest request = Request();
  request.channel_secret = Secret(kOtherSecret);  // Would be refused if LINE were asked.
  auto result = Bind(request);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->binding.verified_with_line);
  EXPECT_EQ(line_.calls(), 0);
}

TEST_F(BindingServiceTest, RepeatingTheSameBindReturnsTheBindingWithoutAskingLine) {
  auto first = Bind(Request());
  ASSERT_TRUE(first.ok());
  const int calls = line_.calls();
  auto second = Bind(Request());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->already_bound);
  EXPECT_EQ(second->binding.binding_id, first->binding.binding_id);
  EXPECT_EQ(second->binding.webhook_key, first->binding.webhook_key);
  EXPECT_EQ(line_.calls(), calls);
  EXPECT_THAT(*service_->Audit(first->binding), SizeIs(1));
}

// Another replica unbound the binding a moment ago and this one's cache still holds it: the
// repeat is a new bind, not "already bound" to a binding that is gone.
TEST_F(BindingServiceTest, ARepeatIsNotAnsweredFromACopyUnboundElsewhere) {
  auto first = Bind(Request());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(cache_->FindActive("team-a", kChannel).ok());  // Cached.
  ASSERT_TRUE(store_->MarkUnbound("team-a", kChannel, {"elsewhere", absl::Now(), ""}).ok());
  ASSERT_TRUE(cache_->FindActive("team-a", kChannel).ok());  // Still cached.

  auto again = Bind(Request());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->already_bound);
  EXPECT_NE(again->binding.binding_id, first->binding.binding_id);
  EXPECT_EQ(cache_->FindActive("team-a", kChannel)->binding_id, again->binding.binding_id);
}

TEST_F(BindingServiceTest, TheSameTeamWithOtherValuesIsToldWhatDiffers) {
  ASSERT_TRUE(Bind(Request()).ok());
  BindRequest request = Request();
  request.app_name = "Renamed";
  request.access_token = Secret("a-different-token-yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
  auto result = Bind(request);
  ExpectReason(result.status(), absl::StatusCode::kAlreadyExists, "OA_BOUND_WITH_OTHER_VALUES");
  EXPECT_THAT(result.status().message(), HasSubstr("App Name, access token"));
  EXPECT_THAT(result.status().message(), HasSubstr("UpdateCredentials"));
}

TEST_F(BindingServiceTest, AnotherTeamIsRefusedWithoutLearningWhichTeam) {
  ASSERT_TRUE(Bind(Request("team-a")).ok());
  auto result = Bind(Request("team-b"));
  ExpectReason(result.status(), absl::StatusCode::kAlreadyExists, "OA_BOUND_TO_OTHER_TEAM");
  EXPECT_THAT(result.status().message(), HasSubstr("Unbind it in that team first"));
  EXPECT_THAT(result.status().message(), Not(HasSubstr("team-a")));
  EXPECT_THAT(result.status().ToString(), Not(HasSubstr("team-a")));
}

TEST_F(BindingServiceTest, AnotherTeamWithWrongValuesLearnsNothingAboutTheBinding) {
  ASSERT_TRUE(Bind(Request("team-a")).ok());
  BindRequest request = Request("team-b");
  request.channel_secret = Secret(kOtherSecret);
  // LINE's answer comes first: someone without the OA's secret cannot probe for bindings.
  ExpectReason(Bind(request).status(), absl::StatusCode::kFailedPrecondition, "SECRET_REJECTED");
}

TEST_F(BindingServiceTest, AfterUnbindAnyTeamBindsWithANewWebhookUrl) {
  auto first = Bind(Request("team-a"));
  ASSERT_TRUE(first.ok());
  auto unbound = service_->Unbind({"team-a", kChannel}, {"op", absl::InfiniteFuture()});
  ASSERT_TRUE(unbound.ok()) << unbound.status();
  EXPECT_FALSE(unbound->binding.active());
  ExpectReason(service_->Get("team-a", kChannel).status(), absl::StatusCode::kNotFound,
               "BINDING_NOT_FOUND");
  auto second = Bind(Request("team-b"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(service_->WebhookUrl(second->binding), service_->WebhookUrl(first->binding));
}

TEST_F(BindingServiceTest, UnbindAuditsARemovedWebhookUrl) {
  auto bound = Bind(Request());
  ASSERT_TRUE(bound.ok());
  FakeLineApi::Channel channel = line_.channel(kChannel);
  channel.webhook.endpoint = service_->WebhookUrl(bound->binding);
  channel.accepts_empty_endpoint = true;
  line_.AddChannel(kChannel, channel);
  auto unbound = service_->Unbind({"team-a", kChannel, true}, {"op", absl::InfiniteFuture()});
  ASSERT_TRUE(unbound.ok()) << unbound.status();
  EXPECT_EQ(unbound->line.webhook_url_clear.outcome, WebhookUrlClear::Outcome::kCleared);
  EXPECT_EQ(line_.channel(kChannel).webhook.endpoint, "");
  auto audit = service_->Audit(unbound->binding);
  ASSERT_TRUE(audit.ok());
  ASSERT_THAT(*audit, SizeIs(2));
  EXPECT_EQ(audit->back().action, "unbind");
  EXPECT_EQ(audit->back().detail, "webhook URL removed from LINE");
}

TEST_F(BindingServiceTest, AnUnbindThatCannotBeStoredPutsTheRemovedUrlBack) {
  auto bound = Bind(Request());
  ASSERT_TRUE(bound.ok());
  const std::string url = service_->WebhookUrl(bound->binding);
  FakeLineApi::Channel channel = line_.channel(kChannel);
  channel.webhook.endpoint = url;
  channel.accepts_empty_endpoint = true;
  line_.AddChannel(kChannel, channel);
  UnbindFailingStore failing(cache_.get());
  BindingService service(&failing, verifier_.get(), checks_.get(), sealer_.get(), &random_, &clock_,
                         BindingService::Options{"https://hooks.example"});
  auto unbound = service.Unbind({"team-a", kChannel, true}, {"op", absl::InfiniteFuture()});
  ExpectReason(unbound.status(), absl::StatusCode::kUnavailable, "STORAGE_UNAVAILABLE");
  EXPECT_EQ(line_.channel(kChannel).webhook.endpoint, url);
  EXPECT_TRUE(service_->Get("team-a", kChannel).ok());
}

TEST_F(BindingServiceTest, UnbindSucceedsWhenLineCannotBeAsked) {
  ASSERT_TRUE(Bind(Request()).ok());
  line_.FailEveryCall(absl::UnavailableError("LINE get webhook endpoint failed: refused"));
  auto unbound = service_->Unbind({"team-a", kChannel, true}, {"op", absl::InfiniteFuture()});
  ASSERT_TRUE(unbound.ok()) << unbound.status();
  EXPECT_FALSE(unbound->binding.active());
  EXPECT_FALSE(unbound->line.leftovers.line_asked);
  EXPECT_THAT(unbound->line.leftovers.detail, HasSubstr("could not ask LINE: "));
  EXPECT_EQ(unbound->line.webhook_url_clear.outcome, WebhookUrlClear::Outcome::kFailed);
  EXPECT_EQ(unbound->line.retired_url.state, RetiredUrl::State::kUnknown);
  auto audit = service_->Audit(unbound->binding);
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->back().detail, "webhook URL could not be removed from LINE");
}

TEST_F(BindingServiceTest, WithLineChecksOffUnbindDoesNotCallLine) {
  ASSERT_TRUE(Bind(Request()).ok());
  Build(LineChecks::kOff);
  const int calls = line_.calls();
  auto unbound = service_->Unbind({"team-a", kChannel}, {"op", absl::InfiniteFuture()});
  ASSERT_TRUE(unbound.ok()) << unbound.status();
  EXPECT_EQ(line_.calls(), calls);
  EXPECT_THAT(unbound->line.leftovers.detail, HasSubstr("LINE checks are off"));
  EXPECT_THAT(unbound->line.leftovers.steps, SizeIs(3));
}

TEST_F(BindingServiceTest, AnotherTeamsBindingLooksExactlyLikeAMissingOne) {
  ASSERT_TRUE(Bind(Request("team-a")).ok());
  const absl::Status others = service_->Get("team-b", kChannel).status();
  const absl::Status missing = service_->Get("team-b", "999").status();
  EXPECT_EQ(others, missing);
  const int calls = line_.calls();
  EXPECT_EQ(service_->Unbind({"team-b", kChannel, true}, {}).status(), missing);
  EXPECT_EQ(line_.calls(), calls);  // LINE is not asked about a binding the team lacks.
  EXPECT_TRUE(service_->Get("team-a", kChannel).ok());
}

TEST_F(BindingServiceTest, UpdatesProvedCredentialsAndAuditsThem) {
  auto bound = Bind(Request());
  ASSERT_TRUE(bound.ok());
  // The channel's secret is reissued in the console.
  const std::string reissued = "aaaaaaaaaaaaaaaaaaaaaaaaaaaa9999";
  line_.AddChannel(kChannel, {reissued, kToken, {kBotUser, "@123abcde", "", "Shop A"}});
  CredentialsRequest update{"team-a", kChannel, Secret(reissued), std::nullopt};
  auto updated = service_->UpdateCredentials(update, {"op", absl::InfiniteFuture()});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->channel_secret_hint, "…9999");
  EXPECT_EQ(sealer_->Unseal(updated->channel_secret, SecretContext(kChannel))->Reveal(), reissued);
  EXPECT_EQ(updated->access_token, bound->binding.access_token);
  auto audit = service_->Audit(*updated);
  ASSERT_THAT(*audit, SizeIs(2));
  EXPECT_EQ((*audit)[1].action, "update_credentials");
  EXPECT_EQ((*audit)[1].detail, "channel_secret");

  // The same values again: nothing to do, no audit row.
  ASSERT_TRUE(service_->UpdateCredentials(update, {}).ok());
  EXPECT_THAT(*service_->Audit(*updated), SizeIs(2));
}

TEST_F(BindingServiceTest, UpdateRefusesCredentialsLineDoesNotConfirm) {
  ASSERT_TRUE(Bind(Request()).ok());
  CredentialsRequest wrong_secret{"team-a", kChannel, Secret(kOtherSecret), std::nullopt};
  ExpectReason(service_->UpdateCredentials(wrong_secret, {}).status(),
               absl::StatusCode::kFailedPrecondition, "SECRET_REJECTED");

  // A token of the same channel but, impossibly, another bot.
  line_.AddChannel(kChannel, {kSecret,
                              "token-of-impostor-bot-zzzzzzzzzzzzzzzzzzzzzzz",
                              {"Uimpostor", "@123abcde", "", "X"}});
  CredentialsRequest other_bot{"team-a", kChannel, std::nullopt,
                               Secret("token-of-impostor-bot-zzzzzzzzzzzzzzzzzzzzzzz")};
  ExpectReason(service_->UpdateCredentials(other_bot, {}).status(),
               absl::StatusCode::kFailedPrecondition, "BOT_USER_MISMATCH");

  CredentialsRequest other_channel{"team-a", kChannel, std::nullopt, Secret(kOtherToken)};
  ExpectReason(service_->UpdateCredentials(other_channel, {}).status(),
               absl::StatusCode::kFailedPrecondition, "TOKEN_CHANNEL_MISMATCH");

  CredentialsRequest not_mine{"team-b", kChannel, Secret(kSecret), std::nullopt};
  ExpectReason(service_->UpdateCredentials(not_mine, {}).status(), absl::StatusCode::kNotFound,
               "BINDING_NOT_FOUND");
  auto binding = service_->Get("team-a", kChannel);
  EXPECT_THAT(*service_->Audit(*binding), SizeIs(1));
}

TEST_F(BindingServiceTest, ConcurrentBindsOfOneOaFromManyTeamsHaveOneWinner) {
  constexpr int kTeams = 40;
  std::atomic<int> created{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kTeams; ++i) {
    threads.emplace_back([&, i] {
      auto result = Bind(Request(absl::StrCat("team-", i)));
      if (result.ok() && !result->already_bound) {
        ++created;
      } else if (!result.ok() && ErrorReason(result.status()) == "OA_BOUND_TO_OTHER_TEAM") {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created, 1);
  EXPECT_EQ(refused, kTeams - 1);
  EXPECT_EQ(other, 0);
}

}  // namespace
}  // namespace linechannel::server
