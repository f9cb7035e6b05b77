#ifndef LINECHANNEL_TESTS_TOOLS_MESSAGING_TEST_BASE_H_
#define LINECHANNEL_TESTS_TOOLS_MESSAGING_TEST_BASE_H_

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/tools/fake_line_test_base.h"
#include "tests/tools/webhook_receiver.h"

namespace linechannel::testing {

// A fake with channel A's webhooks pointed at a receiver, plus shorthands for LINE's outbound
// calls and the control calls behind them.
class MessagingTest : public FakeLineTest {
 protected:
  void SetUp() override {
    FakeLineTest::SetUp();
    ASSERT_EQ(SetEndpoint(kTokenA, receiver_.Url("/hook")).status, 200);
  }

  // What the fake reports about an event it sent.
  struct Event {
    std::string user_id;
    std::string reply_token;
    std::string mark_as_read_token;
    std::string message_id;
    std::string group_id;
    std::string room_id;
  };

  // Sends channel A one generated event as `generate` says ({"message_type": ...}).
  Event Generate(const std::string& generate = "{}") {
    HttpReply reply = SendWebhooks(kChannelA, absl::StrCat(R"({"generate": )", generate, "}"));
    EXPECT_EQ(reply.status, 200) << reply.body;
    JsonView answer(reply.body);
    EXPECT_TRUE(answer.Bool("/sent")) << reply.body;
    return Event{answer.Str("/events/0/user_id"),
                 answer.Str("/events/0/reply_token"),
                 answer.Str("/events/0/mark_as_read_token"),
                 answer.Str("/events/0/message_id"),
                 answer.Str("/events/0/group_id"),
                 answer.Str("/events/0/room_id")};
  }

  // A user the fake invents for `channel_id`, as a follow would.
  std::string NewUser(const std::string& channel_id = kChannelA) {
    HttpReply reply = client().PostJson(absl::StrCat("/fake/channels/", channel_id, "/users"), "");
    EXPECT_EQ(reply.status, 200) << reply.body;
    return JsonView(reply.body).Str("/user_ids/0");
  }

  static std::string Text(const std::string& text) {
    return absl::StrCat(R"([{"type": "text", "text": )", Quote(text), "}]");
  }

  HttpReply Push(const std::string& token, const std::string& to, const std::string& messages,
                 const std::string& retry_key = "") {
    std::map<std::string, std::string> headers = Bearer(token);
    if (!retry_key.empty()) headers["X-Line-Retry-Key"] = retry_key;
    return client().PostJson(
        "/v2/bot/message/push",
        absl::StrCat(R"({"to": )", Quote(to), R"(, "messages": )", messages, "}"), headers);
  }
  HttpReply Reply(const std::string& token, const std::string& reply_token,
                  const std::string& messages) {
    return client().PostJson(
        "/v2/bot/message/reply",
        absl::StrCat(R"({"replyToken": )", Quote(reply_token), R"(, "messages": )", messages, "}"),
        Bearer(token));
  }
  JsonView Sent(const std::string& channel_id = kChannelA) {
    HttpReply reply = client().Get(absl::StrCat("/fake/channels/", channel_id, "/sent"));
    EXPECT_EQ(reply.status, 200) << reply.body;
    return JsonView(reply.body);
  }
  void SetMessaging(const std::string& json, const std::string& channel_id = kChannelA) {
    HttpReply reply =
        client().PatchJson(absl::StrCat("/fake/channels/", channel_id, "/messaging"), json);
    ASSERT_EQ(reply.status, 200) << reply.body;
  }
  void AddFault(const std::string& json, const std::string& channel_id = kChannelA) {
    HttpReply reply =
        client().PostJson(absl::StrCat("/fake/channels/", channel_id, "/faults"), json);
    ASSERT_EQ(reply.status, 200) << reply.body;
  }
  void FreezeClock() {
    ASSERT_EQ(client().PostJson("/fake/clock/freeze", R"({"frozen": true})").status, 200);
  }

  WebhookReceiver receiver_;
};

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_TOOLS_MESSAGING_TEST_BASE_H_
