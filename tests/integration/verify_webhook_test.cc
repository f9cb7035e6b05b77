// VerifyWebhook against the real channeld with the fake LINE platform really delivering its
// test request: one test per fault the troubleshooting guide covers. Also BindChannel's
// webhook set-up, UnbindChannel's report on the retired URL, and the periodic re-check.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <boost/asio.hpp>
#include <memory>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/support/json_field.h"
#include "tests/support/scripted_http_server.h"
#include "tests/support/verify_response.h"

namespace linechannel::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTeam[] = "team-a";

class VerifyWebhookTest : public ServiceTest {
 protected:
  v1::BindChannelResponse Bind(bool set_webhook_url = true, bool overwrite = false,
                               const FixtureChannel& channel = Channel1()) {
    v1::BindChannelRequest request = BindRequestFor(channel, kTeam);
    request.set_set_webhook_url(set_webhook_url);
    request.set_overwrite_webhook_url(overwrite);
    v1::BindChannelResponse response;
    const grpc::Status status = channeld_->stub().BindChannel(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  v1::VerifyWebhookResponse Verify(const FixtureChannel& channel = Channel1()) {
    v1::VerifyWebhookRequest request;
    request.set_team_id(kTeam);
    request.set_channel_id(channel.channel_id);
    v1::VerifyWebhookResponse response;
    const grpc::Status status =
        channeld_->stub().VerifyWebhook(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  v1::Channel Get() { return GetChannelOf(channeld_->stub(), kTeam, Channel1().channel_id); }

  void Patch(const std::string& json, const FixtureChannel& channel = Channel1()) {
    auto patched = line_->Control("PATCH", "/fake/channels/" + channel.channel_id, json);
    ASSERT_TRUE(patched.ok());
    ASSERT_EQ(patched->status, 200) << patched->body;
  }

  std::string FakeState(const std::string& pointer, const FixtureChannel& channel = Channel1()) {
    auto state = line_->Control("GET", "/fake/channels/" + channel.channel_id);
    return state.ok() ? JsonField(state->body, pointer) : "";
  }
};

TEST_F(VerifyWebhookTest, AllGood) {
  Bind();
  const auto r = Verify();
  EXPECT_EQ(r.verdict(), v1::OK) << r.summary();
  EXPECT_THAT(FailedChecks(r), ::testing::IsEmpty());
  EXPECT_EQ(CheckOf(r, v1::LINE_TEST_DELIVERED).result(), v1::PASS);
  EXPECT_EQ(CheckOf(r, v1::SIGNATURE_VERIFIED).result(), v1::PASS);
  // Proved by what channeld's endpoint stored during the test, not by LINE's word alone.
  EXPECT_THAT(CheckOf(r, v1::SIGNATURE_VERIFIED).summary(),
              HasSubstr("reached channeld while LINE's test ran"));
  EXPECT_THAT(CheckOf(r, v1::SIGNATURE_VERIFIED).evidence(),
              HasSubstr("last correctly signed request never -> 20"));
  // LINE's test request is the last correctly signed one.
  EXPECT_EQ(CheckOf(r, v1::RECENT_TRAFFIC).result(), v1::PASS);
  EXPECT_TRUE(r.has_last_signed_request_time());
  EXPECT_EQ(FakeState("/calls/test_endpoint"), "1");
  EXPECT_EQ(Get().state(), v1::ACTIVE);
}

TEST_F(VerifyWebhookTest, ChatModeChatIsPlanBWithManualStepsAndBotIsPlanA) {
  Bind();
  ASSERT_EQ(FakeState("/chat_mode"), "chat");
  EXPECT_EQ(Get().chat_mode(), v1::CHAT_MODE_UNSPECIFIED) << "no VerifyWebhook has run";
  const auto b = Verify();
  EXPECT_EQ(b.verdict(), v1::OK) << b.summary();
  EXPECT_EQ(b.chat_mode(), v1::CHAT);
  EXPECT_EQ(b.mark_as_read_mode(), v1::MARK_AS_READ_MANUAL);
  const v1::WebhookCheck& plan_b = CheckOf(b, v1::RESPONSE_SETTINGS);
  EXPECT_EQ(plan_b.result(), v1::WARNING);
  EXPECT_THAT(plan_b.summary(), HasSubstr("Plan B"));
  EXPECT_THAT(plan_b.evidence(), HasSubstr("chatMode=chat"));
  for (const char* step : {"Manual steps", "greeting message", "auto-response", "response hours",
                           "LINE Official Account Manager", "cannot read"}) {
    EXPECT_THAT(plan_b.next_step(), HasSubstr(step));
  }
  // GetChannel reports what VerifyWebhook found, without asking LINE.
  const std::string bot_info_calls = FakeState("/calls/bot_info");
  EXPECT_EQ(Get().chat_mode(), v1::CHAT);
  EXPECT_EQ(Get().mark_as_read_mode(), v1::MARK_AS_READ_MANUAL);
  EXPECT_EQ(FakeState("/calls/bot_info"), bot_info_calls);

  Patch(R"({"chat_mode":"bot"})");
  const auto a = Verify();
  EXPECT_EQ(a.verdict(), v1::OK) << a.summary();
  EXPECT_EQ(a.chat_mode(), v1::BOT);
  EXPECT_EQ(a.mark_as_read_mode(), v1::MARK_AS_READ_AUTO);
  const v1::WebhookCheck& plan_a = CheckOf(a, v1::RESPONSE_SETTINGS);
  EXPECT_EQ(plan_a.result(), v1::PASS);
  EXPECT_THAT(plan_a.summary(), HasSubstr("Plan A"));
  EXPECT_THAT(plan_a.summary(), HasSubstr("only from our product"));
  EXPECT_EQ(plan_a.next_step(), "");
  EXPECT_EQ(Get().chat_mode(), v1::BOT);
  EXPECT_EQ(Get().mark_as_read_mode(), v1::MARK_AS_READ_AUTO);
}

TEST_F(VerifyWebhookTest, TokenRevoked) {
  Bind();
  Patch(R"({"token_revoked":true})");
  const auto r = Verify();
  EXPECT_EQ(r.verdict(), v1::ACTION_NEEDED);
  EXPECT_THAT(FailedChecks(r), ::testing::ElementsAre(v1::ACCESS_TOKEN_VALID));
  EXPECT_THAT(CheckOf(r, v1::ACCESS_TOKEN_VALID).next_step(),
              HasSubstr("Issue a long-lived channel access token"));
  EXPECT_THAT(CheckOf(r, v1::ACCESS_TOKEN_VALID).next_step(), HasSubstr("UpdateCredentials"));
  const v1::Channel channel = Get();
  EXPECT_EQ(channel.state(), v1::NEEDS_ATTENTION);
  EXPECT_THAT(channel.attention_reasons(0), HasSubstr("access token"));
}

TEST_F(VerifyWebhookTest, SecretReissued) {
  Bind();
  Patch(R"({"reissue_secret":true})");
  const auto r = Verify();
  EXPECT_EQ(r.verdict(), v1::ACTION_NEEDED);
  EXPECT_EQ(CheckOf(r, v1::SIGNATURE_VERIFIED).result(), v1::FAIL);
  EXPECT_THAT(CheckOf(r, v1::SIGNATURE_VERIFIED).summary(), HasSubstr("reissued"));
  // The fake signed its test request with the new secret, and channeld refused it.
  EXPECT_THAT(CheckOf(r, v1::SIGNATURE_VERIFIED).summary(),
              HasSubstr("arrived at channeld during LINE's test"));
  EXPECT_THAT(CheckOf(r, v1::SIGNATURE_VERIFIED).summary(),
              HasSubstr("the channel secret LINE signs with differs from the stored one"));
  EXPECT_THAT(CheckOf(r, v1::SIGNATURE_VERIFIED).next_step(), HasSubstr("UpdateCredentials"));
  EXPECT_THAT(CheckOf(r, v1::LINE_TEST_DELIVERED).evidence(), HasSubstr("statusCode=401"));
  // Our endpoint saw the bad signature during the test.
  EXPECT_EQ(CheckOf(r, v1::RECENT_TRAFFIC).result(), v1::WARNING);
  EXPECT_TRUE(r.has_last_bad_signature_time());

  // Storing the new secret fixes it.
  v1::UpdateCredentialsRequest update;
  update.set_team_id(kTeam);
  update.set_channel_id(Channel1().channel_id);
  update.set_channel_secret(FakeState("/channel_secret"));
  v1::UpdateCredentialsResponse updated;
  ASSERT_TRUE(channeld_->stub().UpdateCredentials(Context().get(), update, &updated).ok());
  const auto fixed = Verify();
  EXPECT_EQ(fixed.verdict(), v1::OK) << fixed.summary();
  EXPECT_EQ(Get().state(), v1::ACTIVE);
}

TEST_F(VerifyWebhookTest, UseWebhookOff) {
  Bind();
  Patch(R"({"webhook_active":false})");
  const auto r = Verify();
  EXPECT_EQ(r.verdict(), v1::ACTION_NEEDED);
  EXPECT_THAT(FailedChecks(r), ::testing::ElementsAre(v1::WEBHOOK_ENABLED));
  EXPECT_THAT(CheckOf(r, v1::WEBHOOK_ENABLED).next_step(), HasSubstr("Turn on \"Use webhook\""));
}

TEST_F(VerifyWebhookTest, UrlPointingElsewhere) {
  const std::string ours = Bind().channel().webhook_url();
  Patch(R"({"webhook_endpoint":"https://old-vendor.example/callback"})");
  const auto r = Verify();
  EXPECT_EQ(r.verdict(), v1::ACTION_NEEDED);
  EXPECT_THAT(FailedChecks(r), ::testing::ElementsAre(v1::WEBHOOK_URL_MATCHES));
  EXPECT_THAT(CheckOf(r, v1::WEBHOOK_URL_MATCHES).summary(),
              HasSubstr("https://old-vendor.example/callback"));
  EXPECT_THAT(CheckOf(r, v1::WEBHOOK_URL_MATCHES).next_step(), HasSubstr(ours));
}

TEST_F(VerifyWebhookTest, LineDown) {
  Bind();
  ASSERT_TRUE(line_->Control("PATCH", "/fake/faults", R"({"fail_status":500})").ok());
  const auto r = Verify();
  EXPECT_EQ(r.verdict(), v1::LINE_UNAVAILABLE);
  EXPECT_THAT(FailedChecks(r), ::testing::IsEmpty());
  EXPECT_THAT(r.summary(), HasSubstr("Try again"));
}

class VerifyWebhookBudgetTest : public VerifyWebhookTest {
 protected:
  std::vector<std::string> Flags() override { return {"--line_test_calls_per_hour=2"}; }
};

TEST_F(VerifyWebhookBudgetTest, OurBudgetIsNeverExceeded) {
  Bind();
  EXPECT_FALSE(Verify().from_cache());
  EXPECT_FALSE(Verify().from_cache());
  const auto cached = Verify();
  EXPECT_TRUE(cached.from_cache());
  EXPECT_EQ(cached.verdict(), v1::OK);
  EXPECT_THAT(cached.summary(), HasSubstr("used up"));
  EXPECT_TRUE(cached.has_result_age());
  EXPECT_EQ(FakeState("/calls/test_endpoint"), "2");
  // The chat mode costs no test call, so a repeated answer still has the current one.
  EXPECT_EQ(cached.chat_mode(), v1::CHAT);
  Patch(R"({"chat_mode":"bot"})");
  const auto switched = Verify();
  EXPECT_TRUE(switched.from_cache());
  EXPECT_EQ(switched.chat_mode(), v1::BOT);
  EXPECT_THAT(CheckOf(switched, v1::RESPONSE_SETTINGS).summary(), HasSubstr("Plan A"));
  EXPECT_EQ(FakeState("/calls/test_endpoint"), "2");
}

class VerifyWebhookLineLimitTest : public VerifyWebhookTest {
 protected:
  std::vector<std::string> Flags() override { return {"--line_test_calls_per_hour=60"}; }
};

TEST_F(VerifyWebhookLineLimitTest, LinesOwnRateLimitIsAnsweredFromTheLastResult) {
  Bind();
  ASSERT_EQ(Verify().verdict(), v1::OK);
  // People pressed Verify in the console: LINE's 60 test calls for the hour are gone.
  for (int i = 0; i < 59; ++i) {
    auto test = HttpCall(
        "POST", line_->base_url() + "/v2/bot/channel/webhook/test", "{}",
        {{"Authorization", "Bearer " + Channel1().token}, {"Content-Type", "application/json"}});
    ASSERT_TRUE(test.ok() && test->status == 200) << i;
  }
  const auto r = Verify();
  EXPECT_TRUE(r.from_cache()) << r.summary();
  EXPECT_EQ(r.verdict(), v1::OK);
  EXPECT_EQ(FakeState("/calls/test_endpoint"), "61");
}

class VerifyWebhookEndpointDownTest : public VerifyWebhookTest {
 protected:
  std::vector<std::string> Flags() override {
    // The public URL leads nowhere, as when a proxy or DNS entry is missing.
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    const int closed_port = probe.local_endpoint().port();
    probe.close();
    return {absl::StrCat("--public_base_url=http://127.0.0.1:", closed_port)};
  }
};

TEST_F(VerifyWebhookEndpointDownTest, OurEndpointDown) {
  Bind();
  const auto r = Verify();
  EXPECT_EQ(r.verdict(), v1::ACTION_NEEDED);
  EXPECT_THAT(FailedChecks(r), ::testing::ElementsAre(v1::LINE_TEST_DELIVERED));
  EXPECT_THAT(CheckOf(r, v1::LINE_TEST_DELIVERED).evidence(), HasSubstr("COULD_NOT_CONNECT"));
  EXPECT_THAT(CheckOf(r, v1::LINE_TEST_DELIVERED).next_step(),
              HasSubstr("reachable from the internet"));
  EXPECT_EQ(CheckOf(r, v1::SIGNATURE_VERIFIED).result(), v1::SKIPPED);
}

// The public URL leads to another HTTP server (an old server, a proxy answering by itself):
// LINE's test gets its answer there, and channeld never sees the request.
class VerifyWebhookOtherServerTest : public VerifyWebhookTest {
 protected:
  std::vector<std::string> Flags() override {
    other_ = std::make_unique<ScriptedHttpServer>([this](const ScriptedHttpServer::Request&) {
      ScriptedHttpServer::Response response;
      response.status = other_status_.load();
      response.body = "OK";
      return response;
    });
    return {"--public_base_url=" + other_->base_url()};
  }

  std::unique_ptr<ScriptedHttpServer> other_;
  std::atomic<int> other_status_{200};
};

TEST_F(VerifyWebhookOtherServerTest, A200FromAnotherServerFailsTheSignatureCheck) {
  const std::string url = Bind().channel().webhook_url();
  ASSERT_EQ(FakeState("/webhook_endpoint"), url);
  const auto r = Verify();
  // LINE did reach the URL, signed, and got 200: only channeld knows it was not channeld.
  ASSERT_EQ(other_->requests().size(), 1u);
  EXPECT_EQ(other_->requests()[0].method, "POST");
  EXPECT_EQ(other_->requests()[0].headers.count("x-line-signature"), 1u);
  EXPECT_EQ(r.verdict(), v1::ACTION_NEEDED) << r.summary();
  EXPECT_THAT(FailedChecks(r), ::testing::ElementsAre(v1::SIGNATURE_VERIFIED));
  const v1::WebhookCheck& check = CheckOf(r, v1::SIGNATURE_VERIFIED);
  EXPECT_THAT(check.summary(),
              HasSubstr(absl::StrCat("LINE reached ", url,
                                     " and got 200, but no correctly signed request for this "
                                     "binding arrived at channeld: another server or a proxy "
                                     "answered.")));
  EXPECT_THAT(check.next_step(), HasSubstr("routes to channeld"));
  EXPECT_THAT(check.evidence(), HasSubstr("last correctly signed request never -> never"));
  EXPECT_THAT(r.summary(), HasSubstr("another server or a proxy answered"));
  const v1::Channel channel = Get();
  EXPECT_EQ(channel.state(), v1::NEEDS_ATTENTION);
  EXPECT_THAT(channel.attention_reasons(0), HasSubstr("another server or a proxy answered"));
}

TEST_F(VerifyWebhookOtherServerTest, A401FromAnotherServerIsNotBlamedOnTheSecret) {
  other_status_ = 401;
  Bind();
  const auto r = Verify();
  ASSERT_EQ(other_->requests().size(), 1u);
  EXPECT_EQ(r.verdict(), v1::ACTION_NEEDED);
  EXPECT_THAT(FailedChecks(r), ::testing::ElementsAre(v1::LINE_TEST_DELIVERED));
  const v1::WebhookCheck& delivered = CheckOf(r, v1::LINE_TEST_DELIVERED);
  EXPECT_THAT(delivered.summary(),
              HasSubstr("got 401, but no request for this binding arrived at channeld"));
  EXPECT_THAT(delivered.next_step(), HasSubstr("routes to channeld"));
  EXPECT_EQ(CheckOf(r, v1::SIGNATURE_VERIFIED).result(), v1::SKIPPED);
  EXPECT_THAT(Get().attention_reasons(0), Not(HasSubstr("secret")));
}

TEST_F(VerifyWebhookTest, BindSetsAnEmptyOrOwnUrlOnLine) {
  const v1::BindChannelResponse first = Bind();
  EXPECT_EQ(first.webhook_setup().action(), v1::WebhookSetup::SET);
  EXPECT_EQ(first.webhook_setup().previous_url(), "");
  EXPECT_TRUE(first.webhook_setup().webhook_enabled());
  EXPECT_EQ(FakeState("/webhook_endpoint"), first.channel().webhook_url());
  // The same bind again: LINE already has our URL; it is set again, nothing else changes.
  const v1::BindChannelResponse again = Bind();
  EXPECT_TRUE(again.already_bound());
  EXPECT_EQ(again.webhook_setup().action(), v1::WebhookSetup::SET);
  EXPECT_EQ(again.webhook_setup().previous_url(), first.channel().webhook_url());
}

TEST_F(VerifyWebhookTest, BindLeavesAForeignUrlUnlessToldToOverwrite) {
  Patch(R"({"webhook_endpoint":"https://old-vendor.example/callback"})");
  const v1::BindChannelResponse kept = Bind(true, false);
  EXPECT_EQ(kept.webhook_setup().action(), v1::WebhookSetup::LEFT_UNCHANGED);
  EXPECT_EQ(kept.webhook_setup().previous_url(), "https://old-vendor.example/callback");
  EXPECT_EQ(FakeState("/webhook_endpoint"), "https://old-vendor.example/callback");
  EXPECT_THAT(kept.webhook_setup().remaining_steps(0), HasSubstr("overwrite_webhook_url"));

  const v1::BindChannelResponse replaced = Bind(true, true);
  EXPECT_EQ(replaced.webhook_setup().action(), v1::WebhookSetup::REPLACED);
  EXPECT_EQ(replaced.webhook_setup().previous_url(), "https://old-vendor.example/callback");
  EXPECT_EQ(FakeState("/webhook_endpoint"), replaced.channel().webhook_url());
}

TEST_F(VerifyWebhookTest, BindWithoutSetUpSaysWhatToDo) {
  const v1::BindChannelResponse bound = Bind(false);
  EXPECT_EQ(bound.webhook_setup().action(), v1::WebhookSetup::NOT_REQUESTED);
  EXPECT_THAT(bound.webhook_setup().remaining_steps(0), HasSubstr(bound.channel().webhook_url()));
  EXPECT_EQ(FakeState("/webhook_endpoint"), "");
}

TEST_F(VerifyWebhookTest, UnbindSaysLineStillCallsTheRetiredUrl) {
  Bind();
  v1::UnbindChannelRequest request;
  request.set_team_id(kTeam);
  request.set_channel_id(Channel1().channel_id);
  v1::UnbindChannelResponse response;
  ASSERT_TRUE(channeld_->stub().UnbindChannel(Context().get(), request, &response).ok());
  EXPECT_EQ(response.retired_url().state(), v1::RetiredUrl::STILL_SET_ON_LINE);
  EXPECT_THAT(response.retired_url().next_step(), HasSubstr("404"));
}

TEST_F(VerifyWebhookTest, ListChannelsFiltersOnState) {
  Bind();
  Bind(true, false, Channel2());
  Patch(R"({"webhook_active":false})", Channel2());
  ASSERT_EQ(Verify(Channel2()).verdict(), v1::ACTION_NEEDED);
  v1::ListChannelsRequest request;
  request.set_team_id(kTeam);
  request.set_state(v1::NEEDS_ATTENTION);
  v1::ListChannelsResponse response;
  ASSERT_TRUE(channeld_->stub().ListChannels(Context().get(), request, &response).ok());
  ASSERT_EQ(response.channels_size(), 1);
  EXPECT_EQ(response.channels(0).channel_id(), Channel2().channel_id);
  request.set_state(v1::ACTIVE);
  ASSERT_TRUE(channeld_->stub().ListChannels(Context().get(), request, &response).ok());
  ASSERT_EQ(response.channels_size(), 1);
  EXPECT_EQ(response.channels(0).channel_id(), Channel1().channel_id);
}

class PeriodicRecheckTest : public VerifyWebhookTest {
 protected:
  std::vector<std::string> Flags() override {
    return {"--recheck_interval=300ms", "--recheck_per_second=50"};
  }
};

TEST_F(PeriodicRecheckTest, DriftIsFoundWithoutAnyoneAsking) {
  Bind();
  EXPECT_EQ(Get().state(), v1::ACTIVE);
  // Someone switches "Use webhook" off in the console.
  Patch(R"({"webhook_active":false})");
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  v1::Channel channel = Get();
  while (channel.state() != v1::NEEDS_ATTENTION && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    channel = Get();
  }
  ASSERT_EQ(channel.state(), v1::NEEDS_ATTENTION);
  EXPECT_THAT(channel.attention_reasons(0), HasSubstr("Use webhook"));
  // The re-check spends no test calls.
  EXPECT_EQ(FakeState("/calls/test_endpoint"), "0");

  // Fixed in the console: the next re-check clears it.
  Patch(R"({"webhook_active":true})");
  const absl::Time fixed_deadline = absl::Now() + absl::Seconds(20);
  while (channel.state() != v1::ACTIVE && absl::Now() < fixed_deadline) {
    absl::SleepFor(absl::Milliseconds(100));
    channel = Get();
  }
  EXPECT_EQ(channel.state(), v1::ACTIVE);
  EXPECT_THAT(channel.attention_reasons(), ::testing::IsEmpty());
}

}  // namespace
}  // namespace linechannel::testing
