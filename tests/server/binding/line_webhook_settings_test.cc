#include "server/binding/line_webhook_settings.h"

#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/binding/binding_health.h"
#include "server/binding/binding_service.h"
#include "storage/cache/caching_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/server/fakes.h"
#include "tests/support/temp_dir.h"

namespace linechannel::server {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// The check of `kind` in a report (a test failure and an empty check if absent).
WebhookCheck CheckOf(const WebhookReport& report, CheckKind kind) {
  for (const WebhookCheck& check : report.checks) {
    if (check.kind == kind) return check;
  }
  ADD_FAILURE() << "no check " << static_cast<int>(kind);
  return {};
}

constexpr char kChannel[] = "1656000001";
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";
constexpr char kToken[] = "token-of-channel-one-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
constexpr char kUrl[] = "https://hooks.example/line/webhook/KEYKEYKEYKEYKEYKEYKEYKEYKEYKEYKE";

class LineWebhookSettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FakeLineApi::Channel channel;
    channel.secret = kSecret;
    channel.token = kToken;
    channel.bot = {"Ubot", "@123abcde", "", "Shop", LineChatMode::kBot, LineMarkAsReadMode::kAuto};
    channel.webhook = {kUrl, true};
    channel.test = {true, "2026-01-01T00:00:00Z", 200, "OK", "200"};
    line_.AddChannel(kChannel, channel);
    storage::SqliteStore::Options options;
    options.path = dir_.File("test.db");
    store_ = *storage::SqliteStore::Open(options);
    cache_ = std::make_unique<storage::CachingStore>(storage::AllRolesOf(*store_), 1000);
    sealer_ = std::make_unique<SecretSealer>(KeyRing::Generate(random_), &random_);
    verifier_ = std::make_unique<BindingVerifier>(&line_, LineChecks::kRequired);
    Build(50);
    BindRequest request;
    request.team_id = "team";
    request.app_name = "app";
    request.channel_id = kChannel;
    request.channel_secret = Secret(kSecret);
    request.access_token = Secret(kToken);
    request.line_id = "123abcde";
    ASSERT_TRUE(bindings_->Bind(request, {}).ok());
    line_.OnTestCall([this](const std::string& secret, const std::string&) { Deliver(secret); });
  }

  // Where LINE's test request lands: our endpoint (which records it as the webhook receiver
  // does), or another server that records nothing.
  enum class Landing { kOurEndpoint, kElsewhere };

  // What our endpoint records for a request LINE signed with `secret` (the receiver's own tests
  // prove that it does).
  void Deliver(const std::string& secret) {
    if (landing_ == Landing::kElsewhere) return;
    clock_.Advance(absl::Milliseconds(1));
    const int64_t row_id = store_->FindActive("team", kChannel)->row_id;
    absl::Notification done;
    if (secret == kSecret) {
      storage::EventBatch batch;
      batch.binding_row_id = row_id;
      batch.team_id = "team";
      batch.channel_id = kChannel;
      batch.received_at = clock_.Now();
      cache_->AppendEvents(std::move(batch), [&](absl::StatusOr<storage::AppendResult> r) {
        EXPECT_TRUE(r.ok()) << r.status();
        done.Notify();
      });
    } else {
      // At most once per interval, as the receiver records troubles.
      if (last_trouble_ && clock_.Now() - *last_trouble_ < storage::kTroubleRecordInterval) return;
      last_trouble_ = clock_.Now();
      cache_->RecordTrouble(row_id, storage::WebhookTrouble::kBadSignature, clock_.Now(),
                            [&](absl::Status s) {
                              EXPECT_TRUE(s.ok()) << s;
                              done.Notify();
                            });
    }
    done.WaitForNotification();
  }

  void Build(int budget) {
    checks_ = std::make_unique<LineWebhookSettings>(&line_, cache_.get(), store_.get(),
                                                    cache_.get(), sealer_.get(), &clock_,
                                                    LineWebhookSettings::Options{budget});
    bindings_ = std::make_unique<BindingService>(cache_.get(), verifier_.get(), checks_.get(),
                                                 sealer_.get(), &random_, &clock_,
                                                 BindingService::Options{"https://hooks.example"});
  }

  storage::Binding Binding() { return *store_->FindActive("team", kChannel); }

  WebhookReport Verify() {
    auto response = checks_->Verify(Binding(), kUrl, absl::InfiniteFuture());
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : WebhookReport();
  }

  void Change(const std::function<void(FakeLineApi::Channel&)>& change) {
    FakeLineApi::Channel channel = line_.channel(kChannel);
    change(channel);
    line_.AddChannel(kChannel, channel);
  }

  testing::TempDir dir_;
  Landing landing_ = Landing::kOurEndpoint;
  std::optional<absl::Time> last_trouble_;
  FakeLineApi line_;
  FakeClock clock_;
  // In front of `store_`, as in the server.
  std::unique_ptr<storage::CachingStore> cache_;
  OpenSslRandom random_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<SecretSealer> sealer_;
  std::unique_ptr<BindingVerifier> verifier_;
  std::unique_ptr<LineWebhookSettings> checks_;
  std::unique_ptr<BindingService> bindings_;
};

TEST_F(LineWebhookSettingsTest, AllGoodIsOkAndTheBindingIsActive) {
  const auto r = Verify();
  EXPECT_EQ(r.verdict, Verdict::kOk) << r.summary;
  ASSERT_THAT(r.checks, SizeIs(7));
  for (const auto& check : r.checks) EXPECT_EQ(check.result, CheckResult::kPass) << check.summary;
  EXPECT_THAT(CheckOf(r, CheckKind::kSignatureVerified).summary,
              HasSubstr("reached channeld while LINE's test ran"));
  EXPECT_FALSE(r.from_cache);
  EXPECT_EQ(HealthOf(Binding()).state, BindingState::kActive);
  EXPECT_TRUE(Binding().checked_at.has_value());
}

TEST_F(LineWebhookSettingsTest, ChatOffIsPlanAAndPasses) {
  const auto r = Verify();
  EXPECT_EQ(r.chat_mode, LineChatMode::kBot);
  EXPECT_EQ(r.mark_as_read_mode, LineMarkAsReadMode::kAuto);
  const WebhookCheck check = CheckOf(r, CheckKind::kResponseSettings);
  EXPECT_EQ(check.result, CheckResult::kPass);
  EXPECT_THAT(check.summary, HasSubstr("Plan A"));
  EXPECT_THAT(check.summary, HasSubstr("answered only from our product"));
  EXPECT_THAT(check.evidence, HasSubstr("chatMode=bot"));
  EXPECT_THAT(check.next_step, IsEmpty());
}

TEST_F(LineWebhookSettingsTest, TheLastKeptAnswersChatModesAreReadWithoutLine) {
  EXPECT_EQ(checks_->LastResponseSettings(Binding()).chat_mode, LineChatMode::kUnknown);
  Verify();
  const int calls = line_.calls();
  const ResponseSettings last = checks_->LastResponseSettings(Binding());
  EXPECT_EQ(last.chat_mode, LineChatMode::kBot);
  EXPECT_EQ(last.mark_as_read_mode, LineMarkAsReadMode::kAuto);
  EXPECT_EQ(line_.calls(), calls);
}

TEST_F(LineWebhookSettingsTest, ChatOnIsPlanBAndListsTheManualSteps) {
  Change([](auto& c) {
    c.bot.chat_mode = LineChatMode::kChat;
    c.bot.mark_as_read_mode = LineMarkAsReadMode::kManual;
  });
  const auto r = Verify();
  EXPECT_EQ(r.verdict, Verdict::kOk) << r.summary;
  EXPECT_EQ(r.chat_mode, LineChatMode::kChat);
  EXPECT_EQ(r.mark_as_read_mode, LineMarkAsReadMode::kManual);
  const WebhookCheck check = CheckOf(r, CheckKind::kResponseSettings);
  EXPECT_EQ(check.result, CheckResult::kWarning);
  EXPECT_THAT(check.summary, HasSubstr("Plan B"));
  EXPECT_THAT(check.evidence, HasSubstr("markAsReadMode=manual"));
  EXPECT_THAT(check.next_step, HasSubstr("greeting message, auto-response and response hours"));
  EXPECT_THAT(check.next_step, HasSubstr("cannot read"));
  EXPECT_EQ(HealthOf(Binding()).state, BindingState::kActive) << "a choice, not a fault";
}

TEST_F(LineWebhookSettingsTest, AChatModeLineDidNotGiveIsSkippedWithBothPlans) {
  Change([](auto& c) { c.bot.chat_mode = LineChatMode::kUnknown; });
  const auto r = Verify();
  EXPECT_EQ(r.verdict, Verdict::kOk) << r.summary;
  const WebhookCheck check = CheckOf(r, CheckKind::kResponseSettings);
  EXPECT_EQ(check.result, CheckResult::kSkipped);
  EXPECT_THAT(check.next_step, HasSubstr("Plan A"));
  EXPECT_THAT(check.next_step, HasSubstr("Plan B"));
}

TEST_F(LineWebhookSettingsTest, WithUseWebhookOffThePlanWaitsForTheWebhook) {
  Change([](auto& c) { c.webhook.active = false; });
  const auto r = Verify();
  EXPECT_THAT(CheckOf(r, CheckKind::kResponseSettings).summary, HasSubstr("once the webhook"));
}

TEST_F(LineWebhookSettingsTest, ARepeatedAnswerHasTheCurrentChatMode) {
  Build(1);
  EXPECT_FALSE(Verify().from_cache);
  Change([](auto& c) { c.bot.chat_mode = LineChatMode::kChat; });
  const auto cached = Verify();
  EXPECT_TRUE(cached.from_cache);
  EXPECT_EQ(cached.chat_mode, LineChatMode::kChat);
  int response_settings = 0;
  for (const WebhookCheck& check : cached.checks) {
    if (check.kind != CheckKind::kResponseSettings) continue;
    ++response_settings;
    EXPECT_THAT(check.summary, HasSubstr("Plan B"));
  }
  EXPECT_EQ(response_settings, 1);
  ASSERT_THAT(cached.checks, SizeIs(7));
  EXPECT_EQ(cached.checks[3].kind, CheckKind::kResponseSettings) << "after the webhook checks";
}

TEST_F(LineWebhookSettingsTest, ARevokedTokenFailsAndSkipsWhatNeedsIt) {
  Change([](auto& c) { c.token = "another-token-now-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"; });
  const auto r = Verify();
  EXPECT_EQ(r.verdict, Verdict::kActionNeeded);
  EXPECT_EQ(CheckOf(r, CheckKind::kAccessTokenValid).result, CheckResult::kFail);
  EXPECT_THAT(CheckOf(r, CheckKind::kAccessTokenValid).next_step, HasSubstr("UpdateCredentials"));
  EXPECT_EQ(CheckOf(r, CheckKind::kWebhookUrlMatches).result, CheckResult::kSkipped);
  EXPECT_EQ(CheckOf(r, CheckKind::kLineTestDelivered).result, CheckResult::kSkipped);
  EXPECT_EQ(CheckOf(r, CheckKind::kResponseSettings).result, CheckResult::kSkipped);
  EXPECT_EQ(r.chat_mode, LineChatMode::kUnknown);
  const BindingHealth health = HealthOf(Binding());
  EXPECT_EQ(health.state, BindingState::kNeedsAttention);
  ASSERT_THAT(health.reasons, SizeIs(1));
  EXPECT_THAT(health.reasons[0], HasSubstr("access token"));
}

TEST_F(LineWebhookSettingsTest, AUrlElsewhereSaysWhereAndHowToFixIt) {
  Change([](auto& c) { c.webhook.endpoint = "https://old-provider.example/hook"; });
  const auto r = Verify();
  EXPECT_EQ(r.verdict, Verdict::kActionNeeded);
  const auto& url = CheckOf(r, CheckKind::kWebhookUrlMatches);
  EXPECT_EQ(url.result, CheckResult::kFail);
  EXPECT_THAT(url.summary, HasSubstr("https://old-provider.example/hook"));
  EXPECT_THAT(url.next_step, HasSubstr(kUrl));
}

TEST_F(LineWebhookSettingsTest, NoUrlAndUseWebhookOffAreEachFound) {
  Change([](auto& c) { c.webhook.endpoint = ""; });
  auto r = Verify();
  EXPECT_EQ(CheckOf(r, CheckKind::kWebhookUrlMatches).result, CheckResult::kFail);
  EXPECT_THAT(CheckOf(r, CheckKind::kWebhookUrlMatches).summary, HasSubstr("no webhook URL"));

  Change([](auto& c) { c.webhook = {kUrl, false}; });
  r = Verify();
  EXPECT_EQ(CheckOf(r, CheckKind::kWebhookEnabled).result, CheckResult::kFail);
  EXPECT_THAT(CheckOf(r, CheckKind::kWebhookEnabled).next_step,
              HasSubstr("Turn on \"Use webhook\""));
  EXPECT_EQ(r.verdict, Verdict::kActionNeeded);
}

TEST_F(LineWebhookSettingsTest, A401FromOurEndpointMeansTheSecretWasReissued) {
  Change([](auto& c) {
    c.secret = "fedcba9876543210fedcba9876543210";
    c.test = {false, "", 401, "ERROR_STATUS_CODE", "401 Unauthorized"};
  });
  const auto r = Verify();
  const WebhookCheck check = CheckOf(r, CheckKind::kSignatureVerified);
  EXPECT_EQ(check.result, CheckResult::kFail);
  EXPECT_THAT(check.summary, HasSubstr("arrived at channeld during LINE's test"));
  EXPECT_THAT(check.summary, HasSubstr("channel secret LINE signs with differs"));
  EXPECT_THAT(check.next_step, HasSubstr("UpdateCredentials"));
  EXPECT_THAT(CheckOf(r, CheckKind::kLineTestDelivered).evidence, HasSubstr("statusCode=401"));
  // One reason for the two failed checks: the one that says what to do. (The health adds the
  // endpoint's own: a bad signature with no good one since.)
  EXPECT_THAT(Binding().attention_reasons, SizeIs(1));

  // Again at once: the endpoint does not record the second bad signature so soon after the
  // first, and the one just before the test stands for it.
  clock_.Advance(absl::Seconds(2));
  const WebhookCheck again = CheckOf(Verify(), CheckKind::kSignatureVerified);
  EXPECT_EQ(again.result, CheckResult::kFail);
  EXPECT_THAT(again.summary, HasSubstr("just before the test"));
  EXPECT_THAT(again.next_step, HasSubstr("UpdateCredentials"));
}

TEST_F(LineWebhookSettingsTest, A200FromAnotherServerFailsTheSignatureCheck) {
  landing_ = Landing::kElsewhere;
  const auto r = Verify();
  EXPECT_EQ(r.verdict, Verdict::kActionNeeded);
  EXPECT_EQ(CheckOf(r, CheckKind::kLineTestDelivered).result, CheckResult::kPass);
  const WebhookCheck check = CheckOf(r, CheckKind::kSignatureVerified);
  EXPECT_EQ(check.result, CheckResult::kFail);
  EXPECT_THAT(check.summary,
              HasSubstr(absl::StrCat("LINE reached ", kUrl,
                                     " and got 200, but no correctly signed "
                                     "request for this binding arrived at channeld")));
  EXPECT_THAT(check.summary, HasSubstr("another server or a proxy answered"));
  EXPECT_THAT(check.next_step, HasSubstr("routes to channeld"));
  EXPECT_THAT(check.evidence, HasSubstr("last correctly signed request never -> never"));
  EXPECT_EQ(HealthOf(Binding()).state, BindingState::kNeedsAttention);

  // A signed request that arrived before the test proves nothing about the test.
  landing_ = Landing::kOurEndpoint;
  ASSERT_EQ(Verify().verdict, Verdict::kOk);
  landing_ = Landing::kElsewhere;
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(CheckOf(Verify(), CheckKind::kSignatureVerified).result, CheckResult::kFail);
}

TEST_F(LineWebhookSettingsTest, A401FromAnotherServerSaysNothingArrived) {
  landing_ = Landing::kElsewhere;
  Change([](auto& c) { c.test = {false, "", 401, "ERROR_STATUS_CODE", "401 Unauthorized"}; });
  const auto r = Verify();
  const WebhookCheck delivered = CheckOf(r, CheckKind::kLineTestDelivered);
  EXPECT_EQ(delivered.result, CheckResult::kFail);
  EXPECT_THAT(delivered.summary, HasSubstr("got 401, but no request for this binding arrived"));
  EXPECT_THAT(delivered.next_step, HasSubstr("routes to channeld"));
  EXPECT_EQ(CheckOf(r, CheckKind::kSignatureVerified).result, CheckResult::kSkipped);
}

TEST_F(LineWebhookSettingsTest, DeliveryFailuresNameTheirCause) {
  Change([](auto& c) { c.test = {false, "", 0, "COULD_NOT_CONNECT", "Connection refused"}; });
  auto r = Verify();
  EXPECT_EQ(CheckOf(r, CheckKind::kLineTestDelivered).result, CheckResult::kFail);
  EXPECT_THAT(CheckOf(r, CheckKind::kLineTestDelivered).next_step,
              HasSubstr("reachable from the internet"));
  EXPECT_EQ(CheckOf(r, CheckKind::kSignatureVerified).result, CheckResult::kSkipped);

  Change([](auto& c) { c.test = {false, "", 0, "REQUEST_TIMEOUT", ""}; });
  r = Verify();
  EXPECT_THAT(CheckOf(r, CheckKind::kLineTestDelivered).summary, HasSubstr("timed out"));
}

TEST_F(LineWebhookSettingsTest, LineDownIsLineUnavailableAndKeepsThePreviousFindings) {
  Change([](auto& c) { c.webhook.active = false; });
  ASSERT_EQ(Verify().verdict, Verdict::kActionNeeded);
  line_.FailEveryCall(absl::UnavailableError("connect refused"));
  const auto r = Verify();
  EXPECT_EQ(r.verdict, Verdict::kLineUnavailable);
  EXPECT_EQ(CheckOf(r, CheckKind::kAccessTokenValid).result, CheckResult::kSkipped);
  EXPECT_THAT(HealthOf(Binding()).reasons,
              SizeIs(1));  // Not cleared by a check that could not run.
}

TEST_F(LineWebhookSettingsTest, TheTestBudgetIsNeverExceededAndTheLastResultIsRepeated) {
  Build(2);
  EXPECT_FALSE(Verify().from_cache);
  clock_.Advance(absl::Minutes(10));
  EXPECT_FALSE(Verify().from_cache);
  const int calls = line_.calls();
  clock_.Advance(absl::Minutes(5));
  const auto cached = Verify();
  EXPECT_TRUE(cached.from_cache);
  EXPECT_EQ(absl::ToInt64Seconds(cached.result_age), 5 * 60);
  EXPECT_THAT(cached.summary, HasSubstr("used up"));
  EXPECT_EQ(cached.verdict, Verdict::kOk);
  // The token, URL and bot info are asked again (they cost no test), but no test call was made.
  EXPECT_EQ(line_.calls(), calls + 3);
  // An hour after the first test, the budget is back.
  clock_.Advance(absl::Minutes(46));
  EXPECT_FALSE(Verify().from_cache);
}

TEST_F(LineWebhookSettingsTest, ANoTestBudgetWithoutAnEarlierResultSkipsTheTest) {
  Build(0);
  const auto r = Verify();
  EXPECT_FALSE(r.from_cache);
  EXPECT_EQ(CheckOf(r, CheckKind::kLineTestDelivered).result, CheckResult::kSkipped);
  EXPECT_THAT(r.summary, HasSubstr("did not run"));
}

TEST_F(LineWebhookSettingsTest, AnUnreadableEarlierResultCountsAsNone) {
  // What an older server stored: a serialized protobuf, not this server's JSON.
  const std::string old_record("\x08\x01\x12\x03old", 7);
  ASSERT_TRUE(store_->SaveCheckRecord(Binding().row_id, {clock_.Now(), old_record}).ok());
  Build(0);
  const auto r = Verify();
  EXPECT_FALSE(r.from_cache);
  EXPECT_EQ(CheckOf(r, CheckKind::kLineTestDelivered).result, CheckResult::kSkipped);
  EXPECT_THAT(CheckOf(r, CheckKind::kLineTestDelivered).summary, HasSubstr("no earlier result"));
}

TEST_F(LineWebhookSettingsTest, SetUpSetsEmptyAndOwnUrlsAndRespectsForeignOnes) {
  Change([](auto& c) { c.webhook = {"", true}; });
  auto setup = checks_->SetUp(Secret(kToken), kUrl, false, absl::InfiniteFuture());
  EXPECT_EQ(setup.action, WebhookSetup::Action::kSet);
  EXPECT_EQ(setup.previous_url, "");
  EXPECT_EQ(line_.channel(kChannel).webhook.endpoint, kUrl);

  setup = checks_->SetUp(Secret(kToken), kUrl, false, absl::InfiniteFuture());
  EXPECT_EQ(setup.action, WebhookSetup::Action::kSet);
  EXPECT_EQ(setup.previous_url, kUrl);

  Change([](auto& c) { c.webhook.endpoint = "https://elsewhere.example/x"; });
  setup = checks_->SetUp(Secret(kToken), kUrl, false, absl::InfiniteFuture());
  EXPECT_EQ(setup.action, WebhookSetup::Action::kLeftUnchanged);
  EXPECT_EQ(setup.previous_url, "https://elsewhere.example/x");
  EXPECT_EQ(line_.channel(kChannel).webhook.endpoint, "https://elsewhere.example/x");
  EXPECT_THAT(setup.remaining_steps.at(0), HasSubstr("overwrite_webhook_url"));

  setup = checks_->SetUp(Secret(kToken), kUrl, true, absl::InfiniteFuture());
  EXPECT_EQ(setup.action, WebhookSetup::Action::kReplaced);
  EXPECT_EQ(setup.previous_url, "https://elsewhere.example/x");
  EXPECT_EQ(line_.channel(kChannel).webhook.endpoint, kUrl);

  line_.FailEveryCall(absl::UnavailableError("down"));
  setup = checks_->SetUp(Secret(kToken), kUrl, true, absl::InfiniteFuture());
  EXPECT_EQ(setup.action, WebhookSetup::Action::kFailed);
  EXPECT_THAT(setup.remaining_steps.at(0), HasSubstr("Paste"));
}

TEST_F(LineWebhookSettingsTest, TellsWhetherLineStillCallsARetiredUrl) {
  const auto describe = [&] {
    return checks_->DescribeLeftovers(Secret(kToken), kUrl, false, absl::InfiniteFuture());
  };
  UnbindReport report = describe();
  EXPECT_EQ(report.retired_url.state, RetiredUrl::State::kStillSetOnLine);
  EXPECT_EQ(report.webhook_url_clear.outcome, WebhookUrlClear::Outcome::kNotRequested);
  EXPECT_THAT(report.leftovers.steps.at(0), HasSubstr("which now answers 404"));
  Change([](auto& c) { c.webhook.endpoint = "https://new.example/x"; });
  EXPECT_EQ(describe().retired_url.state, RetiredUrl::State::kNotSetOnLine);
  line_.FailEveryCall(absl::UnavailableError("down"));
  EXPECT_EQ(describe().retired_url.state, RetiredUrl::State::kUnknown);
}

TEST_F(LineWebhookSettingsTest, CountsTheRichMenusLeftOnLine) {
  Change([](auto& c) {
    c.webhook.endpoint = "https://new.example/x";
    c.rich_menus = {{"richmenu-1", "spring"}, {"richmenu-2", "summer"}, {"richmenu-3", ""}};
    c.default_rich_menu_id = "richmenu-2";
  });
  UnbindReport report =
      checks_->DescribeLeftovers(Secret(kToken), kUrl, false, absl::InfiniteFuture());
  EXPECT_TRUE(report.leftovers.line_asked);
  EXPECT_EQ(report.leftovers.rich_menu_count, 3);
  EXPECT_TRUE(report.leftovers.default_rich_menu_set);
  EXPECT_EQ(report.leftovers.default_rich_menu_id, "richmenu-2");
  ASSERT_THAT(report.leftovers.steps, SizeIs(2));
  EXPECT_THAT(report.leftovers.steps[0], HasSubstr("Cancel the default rich menu richmenu-2"));
  EXPECT_THAT(report.leftovers.steps[1], HasSubstr("Delete the 3 rich menus"));

  Change([](auto& c) {
    c.rich_menus.clear();
    c.default_rich_menu_id.clear();
  });
  report = checks_->DescribeLeftovers(Secret(kToken), kUrl, false, absl::InfiniteFuture());
  EXPECT_TRUE(report.leftovers.line_asked);
  EXPECT_EQ(report.leftovers.rich_menu_count, 0);
  EXPECT_FALSE(report.leftovers.default_rich_menu_set);
  EXPECT_THAT(report.leftovers.steps, IsEmpty());
}

TEST_F(LineWebhookSettingsTest, WithoutLineTheLeftoversGiveTheGeneralSteps) {
  line_.FailEveryCall(absl::UnavailableError("LINE get rich menu list failed: refused"));
  UnbindReport report =
      checks_->DescribeLeftovers(Secret(kToken), kUrl, true, absl::InfiniteFuture());
  EXPECT_FALSE(report.leftovers.line_asked);
  EXPECT_EQ(report.leftovers.detail, "could not ask LINE: LINE get rich menu list failed: refused");
  EXPECT_EQ(report.webhook_url_clear.outcome, WebhookUrlClear::Outcome::kFailed);
  ASSERT_THAT(report.leftovers.steps, SizeIs(3));
  EXPECT_THAT(report.leftovers.steps[0], HasSubstr("Check the Webhook URL"));
  EXPECT_THAT(report.leftovers.steps[1], HasSubstr("GET https://api.line.me/v2/bot/richmenu/list"));
  EXPECT_THAT(report.leftovers.steps[2], HasSubstr("default rich menu"));
}

TEST_F(LineWebhookSettingsTest, ClearsTheWebhookUrlOnlyWhenItIsStillOurs) {
  // LINE's documented rules refuse an empty URL: nothing changes, and the step says so.
  UnbindReport report =
      checks_->DescribeLeftovers(Secret(kToken), kUrl, true, absl::InfiniteFuture());
  EXPECT_EQ(report.webhook_url_clear.outcome, WebhookUrlClear::Outcome::kFailed);
  EXPECT_THAT(report.webhook_url_clear.detail, HasSubstr("remove it by hand"));
  EXPECT_EQ(report.retired_url.state, RetiredUrl::State::kStillSetOnLine);
  EXPECT_EQ(line_.channel(kChannel).webhook.endpoint, kUrl);

  // A LINE that takes an empty URL removes ours.
  Change([](auto& c) { c.accepts_empty_endpoint = true; });
  report = checks_->DescribeLeftovers(Secret(kToken), kUrl, true, absl::InfiniteFuture());
  EXPECT_EQ(report.webhook_url_clear.outcome, WebhookUrlClear::Outcome::kCleared);
  EXPECT_EQ(report.retired_url.state, RetiredUrl::State::kNotSetOnLine);
  EXPECT_EQ(line_.channel(kChannel).webhook.endpoint, "");
  EXPECT_EQ(ClearAuditDetail(report.webhook_url_clear), "webhook URL removed from LINE");

  // Somebody else's URL is never touched.
  Change([](auto& c) { c.webhook.endpoint = "https://new.example/x"; });
  report = checks_->DescribeLeftovers(Secret(kToken), kUrl, true, absl::InfiniteFuture());
  EXPECT_EQ(report.webhook_url_clear.outcome, WebhookUrlClear::Outcome::kLeftAlone);
  EXPECT_THAT(report.webhook_url_clear.detail, HasSubstr("https://new.example/x"));
  EXPECT_EQ(line_.channel(kChannel).webhook.endpoint, "https://new.example/x");
}

TEST_F(LineWebhookSettingsTest, TheRecheckFindsDriftAndClearsItWhenFixed) {
  Change([](auto& c) { c.webhook.active = false; });
  ASSERT_TRUE(checks_->Recheck(Binding(), kUrl, absl::InfiniteFuture()).ok());
  EXPECT_EQ(HealthOf(Binding()).state, BindingState::kNeedsAttention);
  Change([](auto& c) { c.webhook.active = true; });
  ASSERT_TRUE(checks_->Recheck(Binding(), kUrl, absl::InfiniteFuture()).ok());
  EXPECT_EQ(HealthOf(Binding()).state, BindingState::kActive);
  EXPECT_THAT(Binding().attention_reasons, IsEmpty());
  line_.FailEveryCall(absl::UnavailableError("down"));
  EXPECT_TRUE(absl::IsUnavailable(checks_->Recheck(Binding(), kUrl, absl::InfiniteFuture())));
}

TEST_F(LineWebhookSettingsTest, ListingFiltersOnState) {
  auto page = bindings_->List("team", false, BindingState::kNeedsAttention, 0, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->bindings, IsEmpty());
  Change([](auto& c) { c.webhook.active = false; });
  Verify();
  page = bindings_->List("team", false, BindingState::kNeedsAttention, 0, 10);
  EXPECT_THAT(page->bindings, SizeIs(1));
  page = bindings_->List("team", false, BindingState::kActive, 0, 10);
  EXPECT_THAT(page->bindings, IsEmpty());
}

}  // namespace
}  // namespace linechannel::server
