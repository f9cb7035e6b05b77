// LINE's reply and push as fake_line serves them: reply tokens, retry keys, validation, quota.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/tools/messaging_test_base.h"

namespace linechannel::testing {
namespace {

constexpr char kKey1[] = "123e4567-e89b-12d3-a456-426614174000";
constexpr char kKey2[] = "123e4567-e89b-12d3-a456-426614174001";

void ExpectBodyError(const HttpReply& reply, const std::string& property) {
  EXPECT_EQ(reply.status, 400) << reply.body;
  JsonView json(reply.body);
  EXPECT_EQ(json.Str("/message"), "The request body has 1 error(s)") << reply.body;
  EXPECT_EQ(json.Str("/details/0/property"), property) << reply.body;
  EXPECT_TRUE(json.IsString("/details/0/message")) << reply.body;
}

using ReplyTest = MessagingTest;

TEST_F(ReplyTest, ReplyTokenFromTheWebhookWorksOnce) {
  const Event event = Generate();
  ASSERT_EQ(event.reply_token.size(), 32u);
  // The token the control API reports is the one the webhook carried.
  ASSERT_EQ(receiver_.requests().size(), 1u);
  JsonView webhook(receiver_.requests()[0].body);
  EXPECT_EQ(webhook.Str("/events/0/replyToken"), event.reply_token);
  EXPECT_EQ(webhook.Str("/events/0/message/markAsReadToken"), event.mark_as_read_token);

  HttpReply first = Reply(kTokenA, event.reply_token, Text("\u3053\u3093\u306B\u3061\u306F"));
  ASSERT_EQ(first.status, 200) << first.body;
  JsonView answer(first.body);
  ASSERT_EQ(answer.Size("/sentMessages"), 1u);
  EXPECT_FALSE(answer.Str("/sentMessages/0/id").empty());
  EXPECT_FALSE(answer.Str("/sentMessages/0/quoteToken").empty());
  EXPECT_FALSE(first.Header("x-line-request-id").empty());

  HttpReply again = Reply(kTokenA, event.reply_token, Text("twice"));
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.body, R"({"message":"Invalid reply token"})");

  JsonView sent = Sent();
  ASSERT_EQ(sent.Size("/sent"), 1u);
  EXPECT_EQ(sent.Str("/sent/0/kind"), "reply");
  EXPECT_EQ(sent.Str("/sent/0/to"), event.user_id);
  EXPECT_EQ(sent.Str("/sent/0/messages/0/text"), "\u3053\u3093\u306B\u3061\u306F");
  EXPECT_EQ(sent.Str("/sent/0/request_id"), first.Header("x-line-request-id"));
  EXPECT_EQ(sent.Str("/sent/0/message_ids/0"), answer.Str("/sentMessages/0/id"));
  EXPECT_EQ(sent.Str("/sent/0/retry_key"), "");
}

TEST_F(ReplyTest, ReplyTokenExpiresOnTheFakeClock) {
  FreezeClock();
  SetMessaging(R"({"reply_token_lifetime_seconds": 30})");
  const Event early = Generate();
  const Event late = Generate();
  AdvanceClock(29);
  EXPECT_EQ(Reply(kTokenA, early.reply_token, Text("in time")).status, 200);
  AdvanceClock(1);
  HttpReply expired = Reply(kTokenA, late.reply_token, Text("too late"));
  EXPECT_EQ(expired.status, 400);
  EXPECT_EQ(JsonView(expired.body).Str("/message"), "Invalid reply token");
  EXPECT_EQ(Reply(kTokenA, "0123456789abcdef0123456789abcdef", Text("never issued")).status, 400);
  EXPECT_EQ(Sent().Size("/sent"), 1u);
}

TEST_F(ReplyTest, ReplyTokensBelongToTheirChannel) {
  const Event event = Generate();
  EXPECT_EQ(Reply(kTokenB, event.reply_token, Text("wrong OA")).status, 400);
  EXPECT_EQ(Reply(kTokenA, event.reply_token, Text("right OA")).status, 200);
  EXPECT_EQ(Sent(kChannelB).Size("/sent"), 0u);
}

TEST_F(ReplyTest, ReplyInAGroupGoesToTheGroup) {
  const std::string group = "C0123456789abcdef0123456789abcdef";
  const Event event = Generate(absl::StrCat(R"({"group_id": ")", group, R"("})"));
  EXPECT_EQ(event.group_id, group);
  EXPECT_EQ(JsonView(receiver_.requests()[0].body).Str("/events/0/source/groupId"), group);
  ASSERT_EQ(Reply(kTokenA, event.reply_token, Text("hi all")).status, 200);
  EXPECT_EQ(Sent().Str("/sent/0/to"), group);
}

TEST_F(ReplyTest, ReplyRefusesARetryKeyAndIsFreeOfQuota) {
  SetMessaging(R"({"message_quota": 0})");
  const Event event = Generate();
  std::map<std::string, std::string> headers = Bearer(kTokenA);
  headers["X-Line-Retry-Key"] = kKey1;
  HttpReply keyed = client().PostJson(
      "/v2/bot/message/reply",
      absl::StrCat(R"({"replyToken": ")", event.reply_token, R"(", "messages": )", Text("x"), "}"),
      headers);
  EXPECT_EQ(keyed.status, 400) << keyed.body;
  // The refused call did not use the token up; replies do not count against the quota.
  EXPECT_EQ(Reply(kTokenA, event.reply_token, Text("free")).status, 200);
  EXPECT_EQ(JsonView(client().Get("/v2/bot/message/quota/consumption", Bearer(kTokenA)).body)
                .Int("/totalUsage"),
            0);
}

TEST_F(ReplyTest, ReplyValidatesItsBody) {
  const Event event = Generate();
  ExpectBodyError(Reply(kTokenA, event.reply_token, "[]"), "messages");
  ExpectBodyError(client().PostJson("/v2/bot/message/reply", R"({"messages": [{"type": "text",
                                    "text": "x"}]})",
                                    Bearer(kTokenA)),
                  "replyToken");
  EXPECT_EQ(client().PostJson("/v2/bot/message/reply", "{nope", Bearer(kTokenA)).status, 400);
  EXPECT_EQ(Reply(kTokenA, event.reply_token, Text("still usable")).status, 200);
}

using PushTest = MessagingTest;

TEST_F(PushTest, RetryKeyRunsThePushOnce) {
  const std::string user = NewUser();
  HttpReply first = Push(kTokenA, user, Text("order shipped"), kKey1);
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string request_id = first.Header("x-line-request-id");
  ASSERT_FALSE(request_id.empty());
  const std::string message_id = JsonView(first.body).Str("/sentMessages/0/id");

  HttpReply second = Push(kTokenA, user, Text("order shipped"), kKey1);
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_EQ(second.Header("x-line-accepted-request-id"), request_id);
  EXPECT_NE(second.Header("x-line-request-id"), request_id);
  JsonView conflict(second.body);
  EXPECT_EQ(conflict.Str("/message"), "The retry key is already accepted");
  EXPECT_EQ(conflict.Str("/sentMessages/0/id"), message_id);

  JsonView sent = Sent();
  ASSERT_EQ(sent.Size("/sent"), 1u);
  EXPECT_EQ(sent.Str("/sent/0/kind"), "push");
  EXPECT_EQ(sent.Str("/sent/0/to"), user);
  EXPECT_EQ(sent.Str("/sent/0/retry_key"), kKey1);
  EXPECT_EQ(sent.Str("/sent/0/request_id"), request_id);
  EXPECT_EQ(sent.Str("/sent/0/messages/0/text"), "order shipped");
  EXPECT_FALSE(sent.Str("/sent/0/accepted_at").empty());

  // Another key is another push; keys are per channel.
  EXPECT_EQ(Push(kTokenA, user, Text("again"), kKey2).status, 200);
  const std::string user_b = NewUser(kChannelB);
  EXPECT_EQ(Push(kTokenB, user_b, Text("B"), kKey1).status, 200);
  EXPECT_EQ(Sent().Size("/sent"), 2u);
  EXPECT_EQ(JsonView(client().Get("/v2/bot/message/quota/consumption", Bearer(kTokenA)).body)
                .Int("/totalUsage"),
            2);
}

TEST_F(PushTest, RetryKeyIsForgottenAfterADay) {
  FreezeClock();
  const std::string user = NewUser();
  ASSERT_EQ(Push(kTokenA, user, Text("1"), kKey1).status, 200);
  AdvanceClock(24 * 3600 - 1);
  EXPECT_EQ(Push(kTokenA, user, Text("1"), kKey1).status, 409);
  AdvanceClock(1);
  EXPECT_EQ(Push(kTokenA, user, Text("1"), kKey1).status, 200);
}

TEST_F(PushTest, ValidatesRecipientAndMessages) {
  const std::string user = NewUser();
  HttpReply bad_to = Push(kTokenA, "U123", Text("x"));
  EXPECT_EQ(bad_to.status, 400);
  EXPECT_TRUE(absl::StrContains(JsonView(bad_to.body).Str("/message"), "'to'")) << bad_to.body;
  EXPECT_EQ(Push(kTokenA, "X0123456789abcdef0123456789abcdef", Text("x")).status, 400);
  ExpectBodyError(
      client().PostJson("/v2/bot/message/push", absl::StrCat(R"({"messages": )", Text("x"), "}"),
                        Bearer(kTokenA)),
      "to");
  ExpectBodyError(Push(kTokenA, user, "[]"), "messages");
  std::string six = "[";
  for (int i = 0; i < 6; ++i) absl::StrAppend(&six, i ? "," : "", R"({"type":"text","text":"x"})");
  ExpectBodyError(Push(kTokenA, user, six + "]"), "messages");
  ExpectBodyError(Push(kTokenA, user, R"([{"type": "hologram"}])"), "messages[0].type");
  ExpectBodyError(Push(kTokenA, user, R"([{"type": "text", "text": "ok"}, {"type": "text"}])"),
                  "messages[1].text");
  ExpectBodyError(Push(kTokenA, user, R"([{"type": "image", "originalContentUrl": "https://x"}])"),
                  "messages[0].previewImageUrl");
  ExpectBodyError(Push(kTokenA, user, Text(std::string(5001, 'a'))), "messages[0].text");
  EXPECT_EQ(Push(kTokenA, user, Text(std::string(5000, 'a'))).status, 200);
  // LINE counts UTF-16 code units: an emoji is two.
  std::string emoji;
  for (int i = 0; i < 2501; ++i) emoji += "\U0001F363";
  ExpectBodyError(Push(kTokenA, user, Text(emoji)), "messages[0].text");
  EXPECT_EQ(Push(kTokenA, user, Text(emoji.substr(4))).status, 200);
  EXPECT_EQ(Push(kTokenA, user, Text("x"), "not-a-uuid").status, 400);
  EXPECT_EQ(client().PostJson("/v2/bot/message/push", "[1]", Bearer(kTokenA)).status, 400);
  EXPECT_EQ(Sent().Size("/sent"), 2u);
}

TEST_F(PushTest, UnknownOrBlockedUsersCannotBeReached) {
  HttpReply unknown = Push(kTokenA, "U00000000000000000000000000000000", Text("x"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(JsonView(unknown.body).Str("/message"), "Failed to send messages");
  const std::string user = NewUser();
  // A user of another OA is unknown here.
  EXPECT_EQ(Push(kTokenB, user, Text("x")).status, 400);

  HttpReply blocked = client().PatchJson(
      absl::StrCat("/fake/channels/", kChannelA, "/users/", user), R"({"blocked": true})");
  ASSERT_EQ(blocked.status, 200) << blocked.body;
  EXPECT_EQ(Push(kTokenA, user, Text("x"), kKey1).status, 400);
  ASSERT_EQ(client()
                .PatchJson(absl::StrCat("/fake/channels/", kChannelA, "/users/", user),
                           R"({"blocked": false})")
                .status,
            200);
  // The refused push did not take the key.
  EXPECT_EQ(Push(kTokenA, user, Text("x"), kKey1).status, 200);
  EXPECT_EQ(client()
                .PatchJson(absl::StrCat("/fake/channels/", kChannelA,
                                        "/users/U00000000000000000000000000000000"),
                           R"({"blocked": true})")
                .status,
            404);
}

TEST_F(PushTest, PushesToKnownGroupsAndRooms) {
  const std::string group = "C00112233445566778899aabbccddeeff";
  ASSERT_EQ(client()
                .PostJson(absl::StrCat("/fake/channels/", kChannelA, "/users"),
                          absl::StrCat(R"({"count": 2, "group_id": ")", group, R"("})"))
                .status,
            200);
  EXPECT_EQ(Push(kTokenA, group, Text("hello group")).status, 200);
  EXPECT_EQ(Push(kTokenA, "Cffffffffffffffffffffffffffffffff", Text("x")).status, 400);
  const Event in_room = Generate(R"({"room_id": "Rffeeddccbbaa99887766554433221100"})");
  EXPECT_EQ(Push(kTokenA, in_room.room_id, Text("hello room")).status, 200);
}

TEST_F(PushTest, MonthlyQuota) {
  JsonView none(client().Get("/v2/bot/message/quota", Bearer(kTokenA)).body);
  EXPECT_EQ(none.Str("/type"), "none");
  EXPECT_FALSE(none.Has("/value"));

  FreezeClock();
  SetMessaging(R"({"message_quota": 2})");
  HttpReply quota = client().Get("/v2/bot/message/quota", Bearer(kTokenA));
  ASSERT_EQ(quota.status, 200);
  EXPECT_EQ(JsonView(quota.body).Str("/type"), "limited");
  EXPECT_EQ(JsonView(quota.body).Int("/value"), 2);

  const std::string user = NewUser();
  EXPECT_EQ(Push(kTokenA, user, Text("1")).status, 200);
  // Five message objects to one user count once.
  std::string five = "[";
  for (int i = 0; i < 5; ++i) absl::StrAppend(&five, i ? "," : "", R"({"type":"text","text":"x"})");
  EXPECT_EQ(Push(kTokenA, user, five + "]").status, 200);
  HttpReply over = Push(kTokenA, user, Text("3"), kKey1);
  EXPECT_EQ(over.status, 429);
  EXPECT_EQ(over.body, R"({"message":"You have reached your monthly limit."})");
  EXPECT_EQ(JsonView(client().Get("/v2/bot/message/quota/consumption", Bearer(kTokenA)).body)
                .Int("/totalUsage"),
            2);
  EXPECT_EQ(Sent().Size("/sent"), 2u);

  // A new month starts from zero; the refused key was never taken.
  AdvanceClock(32 * 24 * 3600);
  EXPECT_EQ(JsonView(client().Get("/v2/bot/message/quota/consumption", Bearer(kTokenA)).body)
                .Int("/totalUsage"),
            0);
  EXPECT_EQ(Push(kTokenA, user, Text("3"), kKey1).status, 200);
}

TEST_F(PushTest, CallsNeedAValidTokenOfTheirChannel) {
  const std::string user = NewUser();
  EXPECT_EQ(client().PostJson("/v2/bot/message/push", "{}").status, 401);
  EXPECT_EQ(Push("no such token", user, Text("x")).status, 401);
  EXPECT_EQ(client().Get("/v2/bot/message/quota").status, 401);
  EXPECT_EQ(client().Get("/v2/bot/profile/" + user).status, 401);

  const std::string stateless = JsonView(Token(kChannelA, kSecretA).body).Str("/access_token");
  EXPECT_EQ(Push(stateless, user, Text("x")).status, 200);
  AdvanceClock(901);
  EXPECT_EQ(Push(stateless, user, Text("x")).status, 401);

  ASSERT_EQ(Patch(kChannelA, R"({"token_revoked": true})").status, 200);
  EXPECT_EQ(Push(kTokenA, user, Text("x")).status, 401);
  EXPECT_EQ(Sent().Size("/sent"), 1u);
  // Calls with an unknown or no token cannot be attributed; the other three are counted.
  EXPECT_EQ(State(kChannelA).Int("/calls/push"), 3);
}

TEST_F(PushTest, WrongMethodAndChannelFaultsApply) {
  EXPECT_EQ(client().Get("/v2/bot/message/push", Bearer(kTokenA)).status, 405);
  EXPECT_EQ(client().PostJson("/v2/bot/message/quota", "{}", Bearer(kTokenA)).status, 405);
  ASSERT_EQ(Patch(kChannelA, R"({"fail_status": 503})").status, 200);
  EXPECT_EQ(Push(kTokenA, NewUser(), Text("x")).status, 503);
  EXPECT_EQ(Sent().Size("/sent"), 0u);
}

}  // namespace
}  // namespace linechannel::testing
