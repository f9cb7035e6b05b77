// Lifecycle events over real gRPC against the real channeld and the fake LINE platform: an
// open StreamEvents hears of every change of a binding (bound, credentials updated, state
// changed, LINE's botSuspended / botResumed, unbound) in cursor order among LINE's own webhook
// events, ListEvents pages the same, other teams see none of them, and channelctl shows them.

#include <grpcpp/grpcpp.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/channelctl_runner.h"
#include "tests/integration/harness.h"
#include "tests/support/json_field.h"

namespace linechannel::testing {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kTeam[] = "team-a";

// kTeam's event stream, read on a thread of its own from cursor 0 until it has `count` events
// or two minutes pass.
class StreamReader {
 public:
  explicit StreamReader(Channeld& channeld, size_t count)
      : stub_(channeld.StubWithToken(channeld.admin_token())) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
    v1::StreamEventsRequest request;
    request.set_team_id(kTeam);
    reader_ = stub_->StreamEvents(&context_, request);
    // Open (its empty backlog read) before the test makes any change.
    reader_->WaitForInitialMetadata();
    thread_ = std::thread([this, count] {
      v1::Event event;
      while (events_.size() < count && reader_->Read(&event)) {
        absl::MutexLock lock(&mu_);
        events_.push_back(event);
      }
      context_.TryCancel();
      reader_->Finish();
    });
  }
  ~StreamReader() { Wait(); }

  // Waits for the events (or the deadline) and returns them.
  std::vector<v1::Event> Wait() {
    if (thread_.joinable()) thread_.join();
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  std::unique_ptr<v1::ChannelService::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader_;
  absl::Mutex mu_;
  std::vector<v1::Event> events_;
  std::thread thread_;
};

class LifecycleEventsTest : public ChannelctlProcessTest {
 protected:
  std::string ChannelPath() const { return "/fake/channels/" + Channel1().channel_id; }

  void Patch(const std::string& body) {
    auto patched = line_->Control("PATCH", ChannelPath(), body);
    ASSERT_TRUE(patched.ok());
    ASSERT_EQ(patched->status, 200) << patched->body;
  }

  // Makes the fake LINE send one generated event of `type` to the binding.
  void SendEvent(const std::string& type) {
    auto sent = line_->Control("POST", ChannelPath() + "/webhooks",
                               absl::StrCat(R"({"generate":{"type":")", type, R"("}})"));
    ASSERT_TRUE(sent.ok());
    ASSERT_EQ(JsonField(sent->body, "/status"), "200") << sent->body;
  }

  void Verify() {
    v1::VerifyWebhookRequest request;
    request.set_team_id(kTeam);
    request.set_channel_id(Channel1().channel_id);
    v1::VerifyWebhookResponse response;
    const grpc::Status status =
        channeld_->stub().VerifyWebhook(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  v1::Channel Get() { return GetChannelOf(channeld_->stub(), kTeam, Channel1().channel_id); }
};

std::vector<std::string> Types(const std::vector<v1::Event>& events) {
  std::vector<std::string> types;
  for (const v1::Event& e : events) types.push_back(e.type());
  return types;
}

TEST_F(LifecycleEventsTest, TheStreamTellsOfEveryChangeInCursorOrderAmongLinesEvents) {
  constexpr size_t kEvents = 10;
  StreamReader stream(*channeld_, kEvents);

  v1::BindChannelRequest bind = BindRequestFor(Channel1(), kTeam);
  bind.set_set_webhook_url(true);
  v1::BindChannelResponse bound;
  ASSERT_TRUE(channeld_->stub().BindChannel(Context().get(), bind, &bound).ok());
  SendEvent("message");

  // Rotation: LINE issues a new token and the team stores it.
  Patch(R"({"reissue_token":true})");
  auto state = line_->Control("GET", ChannelPath());
  ASSERT_TRUE(state.ok());
  const std::string new_token = JsonField(state->body, "/access_token");
  ASSERT_FALSE(new_token.empty()) << state->body;
  v1::UpdateCredentialsRequest update;
  update.set_team_id(kTeam);
  update.set_channel_id(Channel1().channel_id);
  update.set_channel_access_token(new_token);
  v1::UpdateCredentialsResponse updated;
  const grpc::Status rotated =
      channeld_->stub().UpdateCredentials(Context().get(), update, &updated);
  ASSERT_TRUE(rotated.ok()) << rotated.error_message();

  // LINE revokes the token: the check finds it once; the same finding again is no news.
  Patch(R"({"token_revoked":true})");
  Verify();
  Verify();
  EXPECT_EQ(Get().state(), v1::NEEDS_ATTENTION);
  Patch(R"({"token_revoked":false})");
  Verify();
  EXPECT_EQ(Get().state(), v1::ACTIVE);

  // LINE's own news of a suspension: stored as LINE's event, and it changes the binding.
  SendEvent("botSuspended");
  const v1::Channel suspended = Get();
  EXPECT_EQ(suspended.state(), v1::NEEDS_ATTENTION);
  EXPECT_THAT(suspended.attention_reasons(), ::testing::Contains(HasSubstr("BOT_SUSPENDED")));
  SendEvent("botResumed");
  EXPECT_EQ(Get().state(), v1::ACTIVE);

  v1::UnbindChannelRequest unbind;
  unbind.set_team_id(kTeam);
  unbind.set_channel_id(Channel1().channel_id);
  v1::UnbindChannelResponse unbound;
  ASSERT_TRUE(channeld_->stub().UnbindChannel(Context().get(), unbind, &unbound).ok());

  const std::vector<v1::Event> streamed = stream.Wait();
  EXPECT_THAT(Types(streamed),
              ElementsAre("lifecycle.bound", "message", "lifecycle.credentials_updated",
                          "lifecycle.state_changed", "lifecycle.state_changed", "botSuspended",
                          "lifecycle.bot_suspended", "botResumed", "lifecycle.bot_resumed",
                          "lifecycle.unbound"));
  ASSERT_THAT(streamed, SizeIs(kEvents));
  for (size_t i = 0; i < streamed.size(); ++i) {
    const v1::Event& e = streamed[i];
    if (i > 0) {
      EXPECT_GT(e.cursor(), streamed[i - 1].cursor());
    }
    EXPECT_EQ(e.team_id(), kTeam);
    EXPECT_EQ(e.channel_id(), Channel1().channel_id);
    EXPECT_EQ(e.binding_id(), bound.channel().binding_id());
    // LINE's events have no lifecycle and keep their own fields; ours have no LINE fields.
    EXPECT_EQ(e.has_lifecycle(), e.type().rfind("lifecycle.", 0) == 0) << e.type();
    EXPECT_EQ(e.webhook_event_id().empty(), e.has_lifecycle()) << e.type();
    EXPECT_EQ(e.raw_json().empty(), e.has_lifecycle()) << e.type();
  }
  EXPECT_EQ(streamed[0].lifecycle().kind(), v1::LIFECYCLE_BOUND);
  EXPECT_EQ(streamed[0].lifecycle().state(), v1::ACTIVE);
  EXPECT_FALSE(streamed[0].lifecycle().actor().empty());
  EXPECT_EQ(streamed[2].lifecycle().kind(), v1::LIFECYCLE_CREDENTIALS_UPDATED);
  EXPECT_EQ(streamed[2].lifecycle().detail(), "access_token");
  EXPECT_THAT(streamed[2].DebugString(), Not(HasSubstr(new_token)));
  EXPECT_EQ(streamed[3].lifecycle().state(), v1::NEEDS_ATTENTION);
  EXPECT_THAT(streamed[3].lifecycle().attention_reasons(), Not(IsEmpty()));
  EXPECT_EQ(streamed[4].lifecycle().state(), v1::ACTIVE);
  EXPECT_THAT(streamed[4].lifecycle().attention_reasons(), IsEmpty());
  EXPECT_EQ(streamed[6].lifecycle().kind(), v1::LIFECYCLE_BOT_SUSPENDED);
  EXPECT_EQ(streamed[6].lifecycle().state(), v1::NEEDS_ATTENTION);
  EXPECT_TRUE(streamed[6].lifecycle().bot_suspended());
  EXPECT_THAT(streamed[6].lifecycle().attention_reasons(), ElementsAre(HasSubstr("BOT_SUSPENDED")));
  EXPECT_EQ(streamed[8].lifecycle().kind(), v1::LIFECYCLE_BOT_RESUMED);
  EXPECT_EQ(streamed[8].lifecycle().state(), v1::ACTIVE);
  EXPECT_EQ(streamed[9].lifecycle().kind(), v1::LIFECYCLE_UNBOUND);
  EXPECT_EQ(streamed[9].lifecycle().state(), v1::UNBOUND);

  // ListEvents pages the same events with the same cursors; another team sees none.
  const std::vector<v1::Event> listed =
      ListAllEvents(channeld_->stub(), kTeam, "", /*with_lifecycle=*/true);
  ASSERT_THAT(listed, SizeIs(kEvents));
  for (size_t i = 0; i < kEvents; ++i) EXPECT_EQ(listed[i].cursor(), streamed[i].cursor());
  EXPECT_THAT(ListAllEvents(channeld_->stub(), "team-b", "", /*with_lifecycle=*/true), IsEmpty());

  // channelctl shows them readably among LINE's.
  const CliResult shown = Run({"events", absl::StrCat("--team=", kTeam)});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(
      shown.out,
      AllOf(HasSubstr("lifecycle.bound"), HasSubstr("binding=" + bound.channel().binding_id()),
            HasSubstr("lifecycle.credentials_updated"), HasSubstr("detail=access_token"),
            HasSubstr("state=NEEDS_ATTENTION"), HasSubstr("reason: BOT_SUSPENDED"),
            HasSubstr("(bot suspended)"), HasSubstr("lifecycle.unbound"),
            HasSubstr("state=UNBOUND"), HasSubstr(" botSuspended ")));
}

}  // namespace
}  // namespace linechannel::testing
