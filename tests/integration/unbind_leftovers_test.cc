// UnbindChannel's report of what is left on LINE, against the real channeld and the fake LINE
// platform: the rich-menu counts and the default rich menu, clear_webhook_url (only ever our
// own URL), and an unbind that succeeds while LINE cannot be asked.

#include <grpcpp/grpcpp.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/support/json_field.h"

namespace linechannel::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr char kTeam[] = "team-a";
constexpr char kOtherUrl[] = "https://other-service.example/line";

class UnbindLeftoversTest : public ServiceTest {
 protected:
  // Binds Channel1 with its URL set on LINE; returns the URL.
  std::string Bind() {
    v1::BindChannelRequest request = BindRequestFor(Channel1(), kTeam);
    request.set_set_webhook_url(true);
    v1::BindChannelResponse response;
    const grpc::Status status = channeld_->stub().BindChannel(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.channel().webhook_url();
  }

  v1::UnbindChannelResponse Unbind(bool clear_webhook_url = false) {
    v1::UnbindChannelRequest request;
    request.set_team_id(kTeam);
    request.set_channel_id(Channel1().channel_id);
    request.set_clear_webhook_url(clear_webhook_url);
    v1::UnbindChannelResponse response;
    const grpc::Status status =
        channeld_->stub().UnbindChannel(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.channel().state(), v1::UNBOUND);
    return response;
  }

  void Control(const std::string& method, const std::string& path, const std::string& json) {
    auto answer = line_->Control(method, path, json);
    ASSERT_TRUE(answer.ok());
    ASSERT_EQ(answer->status, 200) << answer->body;
  }

  void Patch(const std::string& json) {
    Control("PATCH", "/fake/channels/" + Channel1().channel_id, json);
  }

  std::string FakeState(const std::string& pointer) {
    auto state = line_->Control("GET", "/fake/channels/" + Channel1().channel_id);
    return state.ok() ? JsonField(state->body, pointer) : "";
  }

  // The unbind's audit detail.
  std::string UnbindAuditDetail() {
    v1::ListAuditEntriesRequest request;
    request.set_team_id(kTeam);
    v1::ListAuditEntriesResponse response;
    EXPECT_TRUE(channeld_->stub().ListAuditEntries(Context().get(), request, &response).ok());
    for (const v1::AuditEntry& entry : response.entries()) {
      if (entry.action() == "unbind") return entry.detail();
    }
    return "<no unbind entry>";
  }
};

TEST_F(UnbindLeftoversTest, CountsTheRichMenusAndShowsTheDefaultOne) {
  Bind();
  Patch(R"({"rich_menus":[{"rich_menu_id":"richmenu-a","name":"spring"},
                          {"rich_menu_id":"richmenu-b","name":"summer"},
                          {"rich_menu_id":"richmenu-c","name":"autumn"}],
            "default_rich_menu_id":"richmenu-b"})");
  const v1::UnbindChannelResponse unbound = Unbind();
  const v1::LineLeftovers& left = unbound.leftovers();
  EXPECT_TRUE(left.line_asked()) << left.detail();
  EXPECT_EQ(left.rich_menu_count(), 3);
  EXPECT_TRUE(left.default_rich_menu_set());
  EXPECT_EQ(left.default_rich_menu_id(), "richmenu-b");
  EXPECT_EQ(unbound.retired_url().state(), v1::RetiredUrl::STILL_SET_ON_LINE);
  EXPECT_EQ(unbound.webhook_url_clear().outcome(), v1::WebhookUrlClear::NOT_REQUESTED);
  ASSERT_THAT(left.steps(), SizeIs(3));
  EXPECT_THAT(left.steps(0), HasSubstr("LINE still sends this channel's webhooks"));
  EXPECT_THAT(left.steps(1), HasSubstr("Cancel the default rich menu richmenu-b"));
  EXPECT_THAT(left.steps(2), AllOf(HasSubstr("Delete the 3 rich menus made with the Messaging API"),
                                   HasSubstr("LINE Official Account Manager does not show them")));
  EXPECT_EQ(FakeState("/calls/rich_menu_list"), "1");
  EXPECT_EQ(FakeState("/calls/default_rich_menu"), "1");
  EXPECT_EQ(UnbindAuditDetail(), "");
}

TEST_F(UnbindLeftoversTest, NothingLeftWhenLineHasNoMenuAndAnotherUrl) {
  Bind();
  Patch(R"({"webhook_endpoint":"https://other-service.example/line"})");
  const v1::UnbindChannelResponse unbound = Unbind();
  EXPECT_TRUE(unbound.leftovers().line_asked());
  EXPECT_EQ(unbound.leftovers().rich_menu_count(), 0);
  EXPECT_FALSE(unbound.leftovers().default_rich_menu_set());
  EXPECT_EQ(unbound.retired_url().state(), v1::RetiredUrl::NOT_SET_ON_LINE);
  EXPECT_THAT(unbound.leftovers().steps(), ::testing::IsEmpty());
}

TEST_F(UnbindLeftoversTest, ClearLeavesSomebodyElsesUrlAlone) {
  Bind();
  Patch(R"({"webhook_endpoint":"https://other-service.example/line"})");
  const std::string puts_before = FakeState("/calls/set_endpoint");
  const v1::UnbindChannelResponse unbound = Unbind(/*clear_webhook_url=*/true);
  EXPECT_EQ(unbound.webhook_url_clear().outcome(), v1::WebhookUrlClear::LEFT_ALONE);
  EXPECT_THAT(unbound.webhook_url_clear().detail(), HasSubstr(kOtherUrl));
  // Not even asked to change: LINE's URL is read, never written.
  EXPECT_EQ(FakeState("/calls/set_endpoint"), puts_before);
  EXPECT_EQ(FakeState("/webhook_endpoint"), kOtherUrl);
  EXPECT_EQ(UnbindAuditDetail(), "webhook URL on LINE left alone: not this binding's");
}

TEST_F(UnbindLeftoversTest, ClearOfOurUrlThatLineRefusesSaysToRemoveItByHand) {
  const std::string url = Bind();
  ASSERT_EQ(FakeState("/webhook_endpoint"), url);
  const std::string puts_before = FakeState("/calls/set_endpoint");
  const v1::UnbindChannelResponse unbound = Unbind(/*clear_webhook_url=*/true);
  // LINE's rules ask for a valid HTTPS URL, and the fake (like LINE) refuses an empty one.
  EXPECT_EQ(unbound.webhook_url_clear().outcome(), v1::WebhookUrlClear::FAILED);
  EXPECT_THAT(unbound.webhook_url_clear().detail(),
              AllOf(HasSubstr("Invalid webhook endpoint URL"), HasSubstr("remove it by hand")));
  EXPECT_EQ(FakeState("/calls/set_endpoint"), std::to_string(std::stoi(puts_before) + 1));
  EXPECT_EQ(FakeState("/webhook_endpoint"), url);
  EXPECT_EQ(unbound.retired_url().state(), v1::RetiredUrl::STILL_SET_ON_LINE);
  EXPECT_EQ(UnbindAuditDetail(), "webhook URL could not be removed from LINE");
}

TEST_F(UnbindLeftoversTest, UnbindSucceedsWhileLineIsDown) {
  Bind();
  Control("PATCH", "/fake/faults", R"({"fail_status":503})");
  const v1::UnbindChannelResponse unbound = Unbind(/*clear_webhook_url=*/true);
  const v1::LineLeftovers& left = unbound.leftovers();
  EXPECT_FALSE(left.line_asked());
  EXPECT_THAT(left.detail(), StartsWith("could not ask LINE: "));
  EXPECT_EQ(left.rich_menu_count(), 0);
  EXPECT_EQ(unbound.retired_url().state(), v1::RetiredUrl::UNKNOWN);
  EXPECT_EQ(unbound.webhook_url_clear().outcome(), v1::WebhookUrlClear::FAILED);
  EXPECT_THAT(unbound.webhook_url_clear().detail(), StartsWith("could not ask LINE: "));
  // The general steps: the webhook URL, the rich menus, the default rich menu.
  ASSERT_THAT(left.steps(), SizeIs(3));
  EXPECT_THAT(left.steps(0), HasSubstr("Check the Webhook URL"));
  EXPECT_THAT(left.steps(1), HasSubstr("/v2/bot/richmenu/list"));
  EXPECT_THAT(left.steps(2), HasSubstr("default rich menu"));

  // Unbound for good: the OA is free again.
  Control("PATCH", "/fake/faults", R"({"fail_status":0})");
  v1::GetChannelRequest get;
  get.set_team_id(kTeam);
  get.set_channel_id(Channel1().channel_id);
  v1::Channel channel;
  EXPECT_EQ(Answer(channeld_->stub().GetChannel(Context().get(), get, &channel)),
            "NOT_FOUND/BINDING_NOT_FOUND");
}

TEST_F(UnbindLeftoversTest, UnbindSucceedsWithARevokedToken) {
  Bind();
  Patch(R"({"token_revoked":true})");
  const v1::UnbindChannelResponse unbound = Unbind();
  EXPECT_FALSE(unbound.leftovers().line_asked());
  EXPECT_THAT(unbound.leftovers().detail(),
              AllOf(StartsWith("could not ask LINE: "), HasSubstr("401")));
  EXPECT_THAT(unbound.leftovers().steps(), SizeIs(3));
}

}  // namespace
}  // namespace linechannel::testing
