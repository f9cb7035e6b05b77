// Bindings made with --line_checks=best_effort while LINE could not be reached, proved by the
// re-check as soon as LINE answers again: the real channeld against the fake LINE platform,
// first failing (503, or not listening at all), then answering yes, or answering no.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/support/json_field.h"

namespace linechannel::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr char kTeam[] = "team-a";

// What the support person does besides (binding could not while LINE failed).
void PointLineAt(FakeLine& line, const v1::Channel& bound) {
  const absl::Status pointed = line.PointWebhookAt(bound.channel_id(), bound.webhook_url());
  ASSERT_TRUE(pointed.ok()) << pointed;
}

// Short retries, so that the test waits for LINE's answer, not for the schedule.
std::vector<std::string> RecheckFlags() {
  return {"--line_checks=best_effort", "--recheck_interval=1h", "--recheck_unverified_first=200ms",
          "--recheck_unverified_max=1s", "--recheck_per_second=50"};
}

class UnverifiedRecheckTest : public ServiceTest {
 protected:
  std::vector<std::string> Flags() override { return RecheckFlags(); }

  v1::Channel BindUnverified() {
    v1::BindChannelResponse response;
    const grpc::Status status = channeld_->stub().BindChannel(
        Context().get(), BindRequestFor(Channel1(), kTeam), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_FALSE(response.channel().verified_with_line());
    return response.channel();
  }

  v1::Channel Get() {
    v1::GetChannelRequest request;
    request.set_team_id(kTeam);
    request.set_channel_id(Channel1().channel_id);
    v1::Channel channel;
    const grpc::Status status = channeld_->stub().GetChannel(Context().get(), request, &channel);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return channel;
  }

  // GetChannel until `done` holds (at most 30 s: a loaded machine, not the schedule, is slow).
  v1::Channel GetUntil(const std::function<bool(const v1::Channel&)>& done) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    v1::Channel channel = Get();
    while (!done(channel) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      channel = Get();
    }
    return channel;
  }

  // How often LINE was asked for the channel's token check (bind time and each proof).
  int SecretChecks() {
    auto state = line_->Control("GET", "/fake/channels/" + Channel1().channel_id);
    if (!state.ok()) return -1;
    return std::atoi(JsonField(state->body, "/calls/token").c_str());
  }

  void WaitForSecretChecks(int at_least) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (SecretChecks() < at_least && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_GE(SecretChecks(), at_least);
  }

  void Control(const std::string& method, const std::string& path, const std::string& json) {
    auto answer = line_->Control(method, path, json);
    ASSERT_TRUE(answer.ok()) << answer.status();
    ASSERT_EQ(answer->status, 200) << answer->body;
  }

  std::vector<v1::AuditEntry> Audit() {
    v1::ListAuditEntriesRequest request;
    request.set_team_id(kTeam);
    request.set_channel_id(Channel1().channel_id);
    v1::ListAuditEntriesResponse response;
    const grpc::Status status =
        channeld_->stub().ListAuditEntries(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.entries().begin(), response.entries().end()};
  }
};

TEST_F(UnverifiedRecheckTest, ABindingMadeWhileLineFailedIsProvedOnceLineAnswers) {
  Control("PATCH", "/fake/faults", R"({"fail_status":503})");
  const v1::Channel bound = BindUnverified();
  EXPECT_TRUE(bound.bot_user_id().empty());
  PointLineAt(*line_, bound);
  // The re-check tries again while LINE still fails, and the binding stays unverified.
  WaitForSecretChecks(3);
  EXPECT_FALSE(Get().verified_with_line());
  EXPECT_EQ(Get().state(), v1::ACTIVE);

  Control("PATCH", "/fake/faults", R"({"fail_status":0})");
  const v1::Channel proved = GetUntil([](const v1::Channel& c) { return c.verified_with_line(); });
  ASSERT_TRUE(proved.verified_with_line());
  EXPECT_EQ(proved.bot_user_id(), Channel1().bot_user_id);
  EXPECT_EQ(proved.state(), v1::ACTIVE);
  EXPECT_THAT(proved.attention_reasons(), IsEmpty());
  EXPECT_TRUE(proved.has_check_time());

  const std::vector<v1::AuditEntry> audit = Audit();  // Newest first.
  ASSERT_THAT(audit, SizeIs(2));
  EXPECT_EQ(audit[0].action(), "bind");
  EXPECT_EQ(audit[0].detail(), "verified by re-check");
  EXPECT_EQ(audit[0].actor(), "channeld re-check");
  EXPECT_EQ(audit[1].detail(), "not verified with LINE");
  EXPECT_THAT(channeld_->ReadLogOnceItHas("binding_verified"), HasSubstr("binding_verified"));
}

TEST_F(UnverifiedRecheckTest, LinesNoMarksTheBindingAndAFixedTokenIsProved) {
  Control("PATCH", "/fake/faults", R"({"fail_status":503})");
  PointLineAt(*line_, BindUnverified());
  // While LINE is down, the token is revoked: LINE will say no.
  Control("PATCH", "/fake/channels/" + Channel1().channel_id, R"({"token_revoked":true})");
  Control("PATCH", "/fake/faults", R"({"fail_status":0})");

  const v1::Channel rejected =
      GetUntil([](const v1::Channel& c) { return c.state() == v1::NEEDS_ATTENTION; });
  ASSERT_EQ(rejected.state(), v1::NEEDS_ATTENTION);
  EXPECT_FALSE(rejected.verified_with_line());
  EXPECT_TRUE(rejected.bot_user_id().empty());
  ASSERT_THAT(rejected.attention_reasons(), SizeIs(1));
  EXPECT_THAT(rejected.attention_reasons(0), HasSubstr("TOKEN_REJECTED"));
  EXPECT_THAT(rejected.attention_reasons(0), HasSubstr("channel access token"));
  // Nothing was proved, so nothing was audited.
  EXPECT_THAT(Audit(), SizeIs(1));

  // The support person's fix: a new token, stored with UpdateCredentials.
  auto reissued = line_->Control("PATCH", "/fake/channels/" + Channel1().channel_id,
                                 R"({"reissue_token":true})");
  ASSERT_TRUE(reissued.ok() && reissued->status == 200);
  v1::UpdateCredentialsRequest update;
  update.set_team_id(kTeam);
  update.set_channel_id(Channel1().channel_id);
  update.set_channel_access_token(JsonField(reissued->body, "/access_token"));
  v1::UpdateCredentialsResponse updated;
  const grpc::Status status =
      channeld_->stub().UpdateCredentials(Context().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const v1::Channel proved = GetUntil([](const v1::Channel& c) { return c.verified_with_line(); });
  ASSERT_TRUE(proved.verified_with_line());
  EXPECT_EQ(proved.state(), v1::ACTIVE);
  EXPECT_THAT(proved.attention_reasons(), IsEmpty());
}

// LINE not even listening at bind time (connection refused), then back on the same address.
TEST(UnverifiedRecheckRefusedTest, ABindingMadeWhileLineRefusedConnectionsIsProved) {
  auto first = FakeLine::Start();
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string url = (*first)->base_url();
  Channeld::Options options{url, RecheckFlags()};
  auto channeld = Channeld::Start(std::move(options));
  ASSERT_TRUE(channeld.ok()) << channeld.status();
  first->reset();  // Nothing listens at `url` now.

  v1::BindChannelResponse response;
  grpc::Status status = (*channeld)->stub().BindChannel(
      Context().get(), BindRequestFor(Channel1(), kTeam), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_FALSE(response.channel().verified_with_line());

  auto back = FakeLine::Start({"--listen=" + url.substr(std::string("http://").size())});
  ASSERT_TRUE(back.ok()) << back.status();
  PointLineAt(**back, response.channel());
  v1::GetChannelRequest request;
  request.set_team_id(kTeam);
  request.set_channel_id(Channel1().channel_id);
  v1::Channel channel;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    absl::SleepFor(absl::Milliseconds(50));
    status = (*channeld)->stub().GetChannel(Context().get(), request, &channel);
    ASSERT_TRUE(status.ok()) << status.error_message();
  } while (!channel.verified_with_line() && absl::Now() < deadline);
  EXPECT_TRUE(channel.verified_with_line());
  EXPECT_EQ(channel.bot_user_id(), Channel1().bot_user_id);
  EXPECT_EQ(channel.state(), v1::ACTIVE);
}

}  // namespace
}  // namespace linechannel::testing
