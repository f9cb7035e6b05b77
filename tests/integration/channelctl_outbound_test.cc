// channelctl's commands that answer customers (reply, push, push-status, profile, content,
// quota, mark-read, loading), run as operators run them, against the real channeld and the
// fake LINE platform: the fake sends a webhook, channelctl answers it, and the fake's record of
// what LINE was asked to do is the evidence.

#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/channelctl_runner.h"
#include "tests/support/json_field.h"

namespace linechannel::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTeam[] = "team-a";

// One event the fake sent, as its control API reported it.
struct SentEvent {
  std::string reply_token;
  std::string user_id;
  std::string message_id;
  std::string mark_as_read_token;
};

class ChannelctlOutboundTest : public ChannelctlProcessTest {
 protected:
  void SetUp() override {
    ChannelctlProcessTest::SetUp();
    if (HasFatalFailure()) return;
    const std::string url = BindForWebhooks(*channeld_, Channel1(), kTeam);
    if (HasFatalFailure()) return;
    auto patched = line_->Control("PATCH", "/fake/channels/" + Channel1().channel_id,
                                  absl::StrCat(R"({"webhook_endpoint":")", url, R"("})"));
    ASSERT_TRUE(patched.ok() && patched->status == 200);
  }

  // Makes the fake send one generated message event of `message_type` to the binding.
  SentEvent SendMessageEvent(const std::string& message_type = "text") {
    auto sent = line_->Control(
        "POST", "/fake/channels/" + Channel1().channel_id + "/webhooks",
        absl::StrCat(R"({"generate":{"type":"message","message_type":")", message_type, R"("}})"));
    EXPECT_TRUE(sent.ok());
    if (!sent.ok()) return {};
    EXPECT_EQ(sent->status, 200) << sent->body;
    EXPECT_EQ(JsonField(sent->body, "/status"), "200") << sent->body;
    return {JsonField(sent->body, "/events/0/reply_token"),
            JsonField(sent->body, "/events/0/user_id"),
            JsonField(sent->body, "/events/0/message_id"),
            JsonField(sent->body, "/events/0/mark_as_read_token")};
  }

  // What the fake records as accepted outbound calls: {"sent":[...], "dropped":N}.
  std::string FakeSent() {
    auto sent = line_->Control("GET", "/fake/channels/" + Channel1().channel_id + "/sent");
    EXPECT_TRUE(sent.ok() && sent->status == 200);
    return sent.ok() ? sent->body : "";
  }

  // How many accepted calls of `kind` the fake records.
  int FakeSentCount(const std::string& kind) {
    const std::string sent = FakeSent();
    int count = 0;
    for (int i = 0; !JsonField(sent, absl::StrCat("/sent/", i, "/kind")).empty(); ++i) {
      if (JsonField(sent, absl::StrCat("/sent/", i, "/kind")) == kind) ++count;
    }
    return count;
  }

  // channelctl with the binding's --team and --channel_id after `command`.
  CliResult RunFor(const std::string& command, std::vector<std::string> args, bool json = false) {
    std::vector<std::string> argv;
    if (json) argv.push_back("--json");
    argv.push_back(command);
    argv.push_back(absl::StrCat("--team=", kTeam));
    argv.push_back("--channel_id=" + Channel1().channel_id);
    for (std::string& a : args) argv.push_back(std::move(a));
    return Run(std::move(argv));
  }

  // push-status until the push has left PENDING (the first attempt may finish after
  // PushMessage answers), within 20 s; the last answer.
  CliResult PushStatusWhenSettled(const std::string& request_id) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    CliResult status;
    do {
      status = RunFor("push-status", {"--request_id=" + request_id}, /*json=*/true);
      if (status.exit_code != 0 || JsonField(status.out, "/state") != "PENDING") break;
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < deadline);
    return status;
  }
};

bool ParsesAsJson(const std::string& text) { return !JsonField(text, "").empty(); }

TEST_F(ChannelctlOutboundTest, RepliesWithTheEventsTokenOnceAndLineHasIt) {
  const SentEvent event = SendMessageEvent();
  ASSERT_FALSE(event.reply_token.empty());

  // The event is stored with its reply token, which is where an agent finds it.
  const CliResult events = Run({"events", absl::StrCat("--team=", kTeam)});
  ASSERT_EQ(events.exit_code, 0) << events.err;
  EXPECT_THAT(events.out, AllOf(HasSubstr(" reply_token=" + event.reply_token),
                                HasSubstr(" message=text:" + event.message_id),
                                HasSubstr(" mark_as_read_token=" + event.mark_as_read_token)));
  const CliResult json_events = Run({"--json", "events", absl::StrCat("--team=", kTeam)});
  ASSERT_EQ(json_events.exit_code, 0) << json_events.err;
  EXPECT_THAT(json_events.out, HasSubstr(event.reply_token));

  const std::string text = "こんにちは 😀 \"quoted\", with a comma\nand a second line";
  const CliResult replied =
      RunFor("reply", {"--reply_token=" + event.reply_token, "--text=" + text, "--text=second"});
  ASSERT_EQ(replied.exit_code, 0) << replied.err;
  EXPECT_THAT(replied.out, AllOf(HasSubstr("replied: LINE sent 2 messages"),
                                 HasSubstr("sent_message:"), HasSubstr("line_request_id:")));

  const std::string sent = FakeSent();
  EXPECT_EQ(JsonField(sent, "/sent/0/kind"), "reply") << sent;
  EXPECT_EQ(JsonField(sent, "/sent/0/to"), event.user_id);
  EXPECT_EQ(JsonField(sent, "/sent/0/messages/0/type"), "text");
  EXPECT_EQ(JsonField(sent, "/sent/0/messages/0/text"), text);
  EXPECT_EQ(JsonField(sent, "/sent/0/messages/1/text"), "second");

  // The token is single-use: a second reply is refused, and nothing more reaches LINE.
  const CliResult again = RunFor("reply", {"--reply_token=" + event.reply_token, "--text=again"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("(REPLY_TOKEN_INVALID)"));
  EXPECT_EQ(FakeSentCount("reply"), 1);
}

TEST_F(ChannelctlOutboundTest, RepliesFromAMessageFileWithEachElementItsOwnMessage) {
  const SentEvent event = SendMessageEvent();
  const std::string file = WriteFile("messages.json",
                                     R"([{"type":"text","text":"a ] and } inside"},
          {"type":"sticker","packageId":"446","stickerId":"1988"}])");
  const CliResult replied = RunFor(
      "reply", {"--reply_token=" + event.reply_token, "--message_file=" + file}, /*json=*/true);
  ASSERT_EQ(replied.exit_code, 0) << replied.err;
  EXPECT_TRUE(ParsesAsJson(replied.out)) << replied.out;
  EXPECT_NE(JsonField(replied.out, "/sentMessages/1/id"), "") << replied.out;

  const std::string sent = FakeSent();
  EXPECT_EQ(JsonField(sent, "/sent/0/messages/0/text"), "a ] and } inside");
  EXPECT_EQ(JsonField(sent, "/sent/0/messages/1/type"), "sticker");
}

TEST_F(ChannelctlOutboundTest, PushIsSentOncePerRequestIdAndItsStatusCanBeAsked) {
  const SentEvent event = SendMessageEvent();
  ASSERT_FALSE(event.user_id.empty());
  const std::vector<std::string> push = {"--to=" + event.user_id, "--request_id=order-17",
                                         "--text=hi"};

  const CliResult first = RunFor("push", push);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_THAT(first.out, AllOf(HasSubstr("new push"), HasSubstr("request_id:          order-17"),
                               HasSubstr("retry_key:"), HasSubstr("attempts:")));
  EXPECT_THAT(first.out, Not(HasSubstr("already known")));

  const CliResult second = RunFor("push", push);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_THAT(second.out, HasSubstr("already known: nothing new was sent"));

  const CliResult status = PushStatusWhenSettled("order-17");
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(JsonField(status.out, "/state"), "SENT") << status.out;
  EXPECT_EQ(JsonField(status.out, "/requestId"), "order-17");
  EXPECT_EQ(JsonField(status.out, "/to"), event.user_id);
  EXPECT_NE(JsonField(status.out, "/retryKey"), "");
  EXPECT_EQ(FakeSentCount("push"), 1) << FakeSent();

  const CliResult human = RunFor("push-status", {"--request_id=order-17"});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_THAT(human.out, AllOf(HasSubstr("SENT: LINE accepted it"), HasSubstr("sent_message:")));

  const CliResult quota = RunFor("quota", {}, /*json=*/true);
  ASSERT_EQ(quota.exit_code, 0) << quota.err;
  EXPECT_TRUE(ParsesAsJson(quota.out)) << quota.out;
  EXPECT_EQ(JsonField(quota.out, "/used"), "1") << quota.out;  // An int64, as a JSON string.
  EXPECT_EQ(RunFor("quota", {}).exit_code, 0);

  const CliResult unknown = RunFor("push-status", {"--request_id=never-sent"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND (PUSH_NOT_FOUND)"));
}

TEST_F(ChannelctlOutboundTest, PushWithoutRequestIdPrintsTheOneItMade) {
  const SentEvent event = SendMessageEvent();
  const CliResult pushed = RunFor("push", {"--to=" + event.user_id, "--text=hello"});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  // "channelctl: this push's request id is <uuid>" on stderr, and the same id in the result.
  const std::string marker = "request id is ";
  const size_t at = pushed.err.find(marker);
  ASSERT_NE(at, std::string::npos) << pushed.err;
  const std::string request_id = pushed.err.substr(at + marker.size(), 36);
  EXPECT_THAT(pushed.out, HasSubstr("request_id:          " + request_id));
  EXPECT_EQ(RunFor("push-status", {"--request_id=" + request_id}).exit_code, 0);
}

TEST_F(ChannelctlOutboundTest, BadRecipientIsRefusedWithTheFieldNamed) {
  const CliResult bad = RunFor("push", {"--to=not-a-user", "--request_id=bad-to", "--text=hi"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, AllOf(HasSubstr("INVALID_ARGUMENT"), HasSubstr("  to: ")));

  const CliResult json =
      RunFor("push", {"--to=not-a-user", "--request_id=bad-to-2", "--text=hi"}, /*json=*/true);
  EXPECT_EQ(json.exit_code, 1);
  EXPECT_TRUE(ParsesAsJson(json.err)) << json.err;
  EXPECT_EQ(JsonField(json.err, "/code"), "INVALID_ARGUMENT");
  EXPECT_EQ(JsonField(json.err, "/fieldViolations/0/field"), "to") << json.err;
  EXPECT_EQ(FakeSentCount("push"), 0);
}

TEST_F(ChannelctlOutboundTest, DownloadsImageContentToAFile) {
  const SentEvent event = SendMessageEvent("image");
  ASSERT_FALSE(event.message_id.empty());
  auto reported = line_->Control(
      "GET", "/fake/channels/" + Channel1().channel_id + "/content/" + event.message_id);
  ASSERT_TRUE(reported.ok() && reported->status == 200);
  const std::string size = JsonField(reported->body, "/size");
  ASSERT_NE(size, "");

  const std::string path = dir_.File("photo.jpg");
  const CliResult saved =
      RunFor("content", {"--message_id=" + event.message_id, "--out=" + path}, /*json=*/true);
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  EXPECT_TRUE(ParsesAsJson(saved.out)) << saved.out;
  EXPECT_EQ(JsonField(saved.out, "/contentType"), "image/jpeg");
  EXPECT_EQ(JsonField(saved.out, "/bytesWritten"), size);

  const std::string bytes = ReadFile(path);
  EXPECT_EQ(std::to_string(bytes.size()), size);
  ASSERT_GE(bytes.size(), 3u);
  EXPECT_EQ(bytes.substr(0, 3), "\xFF\xD8\xFF");
  struct stat part;
  EXPECT_NE(::stat((path + ".part").c_str(), &part), 0) << "the part file is left behind";

  // A text message has no content: an error, and no file.
  const SentEvent text = SendMessageEvent("text");
  const std::string none = dir_.File("none.bin");
  const CliResult missing = RunFor("content", {"--message_id=" + text.message_id, "--out=" + none});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("NOT_FOUND (CONTENT_NOT_FOUND)"));
  EXPECT_NE(::stat(none.c_str(), &part), 0);
  EXPECT_NE(::stat((none + ".part").c_str(), &part), 0);
}

TEST_F(ChannelctlOutboundTest, ProfileMarkAsReadAndLoading) {
  const SentEvent event = SendMessageEvent();
  ASSERT_FALSE(event.mark_as_read_token.empty());

  const CliResult profile = RunFor("profile", {"--user_id=" + event.user_id});
  ASSERT_EQ(profile.exit_code, 0) << profile.err;
  EXPECT_THAT(profile.out, AllOf(HasSubstr("user_id:             " + event.user_id),
                                 HasSubstr("display_name:")));
  const CliResult profile_json = RunFor("profile", {"--user_id=" + event.user_id}, true);
  EXPECT_EQ(JsonField(profile_json.out, "/userId"), event.user_id) << profile_json.out;

  const CliResult read = RunFor("mark-read", {"--mark_as_read_token=" + event.mark_as_read_token});
  ASSERT_EQ(read.exit_code, 0) << read.err;
  EXPECT_THAT(read.out, HasSubstr("marked as read"));
  EXPECT_EQ(FakeSentCount("markAsRead"), 1);

  const CliResult loading = RunFor("loading", {"--chat_id=" + event.user_id, "--seconds=10"});
  ASSERT_EQ(loading.exit_code, 0) << loading.err;
  EXPECT_THAT(loading.out, HasSubstr("10 seconds"));
  EXPECT_EQ(FakeSentCount("loading"), 1);
  EXPECT_EQ(JsonField(FakeSent(), "/sent/1/loading_seconds"), "10");
}

TEST_F(ChannelctlOutboundTest, UsageMistakesExitTwoBeforeCallingTheServer) {
  EXPECT_EQ(RunFor("reply", {"--text=hi"}).exit_code, 2);  // No --reply_token.
  const CliResult both = RunFor("push", {"--to=U1", "--text=hi", "--message_file=x.json"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_THAT(both.err, HasSubstr("--text (repeatable) or --message_file"));
  EXPECT_EQ(RunFor("push", {"--to=U1"}).exit_code, 2);
  const CliResult not_json =
      RunFor("push", {"--to=U1", "--message_file=" + WriteFile("bad.json", "{\"type\":")});
  EXPECT_EQ(not_json.exit_code, 2);
  EXPECT_THAT(not_json.err, HasSubstr("not valid JSON"));
  EXPECT_EQ(RunFor("reply", {"--reply_token=t", "--text"}).exit_code, 2);
  EXPECT_EQ(RunFor("content", {"--message_id=1"}).exit_code, 2);
  EXPECT_EQ(RunFor("profile", {"--user_id=U1", "--group_id=C1", "--room_id=R1"}).exit_code, 2);
  EXPECT_EQ(FakeSentCount("push") + FakeSentCount("reply"), 0);
}

}  // namespace
}  // namespace linechannel::testing
