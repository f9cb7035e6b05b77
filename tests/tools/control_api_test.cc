// The /fake/ control API: channels, switches and faults.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/tools/fake_line_test_base.h"
#include "tests/tools/independent_signature.h"
#include "tests/tools/webhook_receiver.h"

namespace linechannel::testing {
namespace {

std::string ChannelJson(const std::string& id, const std::string& token) {
  return absl::StrCat(
      R"({"channel_id": ")", id,
      R"(", "channel_secret": "00112233445566778899aabbccddeeff", "access_token": ")", token,
      R"(", "bot_user_id": "U00112233445566778899aabbccddeeff",
                      "basic_id": "@555aaaaa", "display_name": "New"})");
}

bool IsHex32(const std::string& s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

using ControlApiTest = FakeLineTest;

TEST_F(ControlApiTest, Health) {
  HttpReply reply = client().Get("/fake/health");
  EXPECT_EQ(reply.status, 200);
  EXPECT_TRUE(JsonView(reply.body).Bool("/ok"));
}

TEST_F(ControlApiTest, ChannelStateHasEveryField) {
  HttpReply reply = client().Get(absl::StrCat("/fake/channels/", kChannelB));
  ASSERT_EQ(reply.status, 200) << reply.body;
  JsonView state(reply.body);
  EXPECT_EQ(state.Str("/channel_id"), kChannelB);
  EXPECT_EQ(state.Str("/channel_secret"), kSecretB);
  EXPECT_EQ(state.Str("/access_token"), kTokenB);
  EXPECT_EQ(state.Str("/bot_user_id"), kBotB);
  EXPECT_EQ(state.Str("/basic_id"), "@987zyxwv");
  EXPECT_EQ(state.Str("/premium_id"), "@shopb");
  EXPECT_EQ(state.Str("/display_name"), "Shop B \u30b7\u30e7\u30c3\u30d7");
  EXPECT_EQ(state.Str("/webhook_endpoint"), "https://example.com/hook");
  EXPECT_TRUE(state.Has("/webhook_active"));
  EXPECT_FALSE(state.Bool("/webhook_active"));
  EXPECT_TRUE(state.Has("/token_revoked"));
  EXPECT_EQ(state.Int("/fail_status"), 0);
  EXPECT_EQ(state.Int("/delay_ms"), 0);
  for (const char* key :
       {"token", "verify", "bot_info", "set_endpoint", "get_endpoint", "test_endpoint"}) {
    EXPECT_TRUE(state.Has(absl::StrCat("/calls/", key))) << key;
  }
  HttpReply unknown = client().Get("/fake/channels/42");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_TRUE(JsonView(unknown.body).IsString("/message"));
}

TEST_F(ControlApiTest, AddsOneChannelOrMany) {
  HttpReply one = client().PostJson("/fake/channels", ChannelJson("1656000100", "t100"));
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(BotInfo("t100").status, 200);
  EXPECT_TRUE(State("1656000100").Bool("/webhook_active"));  // The default.

  std::string batch = R"({"channels": [)";
  for (int i = 0; i < 1000; ++i) {
    absl::StrAppend(&batch, i == 0 ? "" : ",",
                    ChannelJson(absl::StrCat(1700000000 + i), absl::StrCat("bulk-", i)));
  }
  batch += "]}";
  HttpReply many = client().PostJson("/fake/channels", batch);
  ASSERT_EQ(many.status, 200) << many.body;
  EXPECT_EQ(JsonView(many.body).Int("/channels"), 1000);
  EXPECT_EQ(BotInfo("bulk-999").status, 200);
  EXPECT_EQ(JsonView(client().Get("/fake/channels").body).Size("/channel_ids"), 1003u);
}

TEST_F(ControlApiTest, ReplacingAChannelResetsItsState) {
  ASSERT_EQ(BotInfo(kTokenA).status, 200);
  ASSERT_EQ(Patch(kChannelA, R"({"fail_status": 500})").status, 200);
  HttpReply replaced = client().PostJson("/fake/channels", ChannelJson(kChannelA, "replacement"));
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(BotInfo(kTokenA).status, 401);  // The old token went with the old channel.
  EXPECT_EQ(BotInfo("replacement").status, 200);
  JsonView state = State(kChannelA);
  EXPECT_EQ(state.Int("/fail_status"), 0);
  EXPECT_EQ(state.Int("/calls/bot_info"), 1);
}

TEST_F(ControlApiTest, RejectsBadChannels) {
  HttpReply garbage = client().PostJson("/fake/channels", "{not json");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_TRUE(JsonView(garbage.body).IsString("/message"));

  HttpReply missing = client().PostJson("/fake/channels", R"({"channel_id": "1"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_TRUE(absl::StrContains(JsonView(missing.body).Str("/message"), "channel_secret"))
      << missing.body;

  HttpReply typo = client().PostJson(
      "/fake/channels", absl::StrCat(ChannelJson("9", "t9").substr(0, 1), R"("webhook_url": "x", )",
                                     ChannelJson("9", "t9").substr(1)));
  EXPECT_EQ(typo.status, 400);
  EXPECT_TRUE(absl::StrContains(JsonView(typo.body).Str("/message"), "webhook_url")) << typo.body;

  HttpReply taken = client().PostJson("/fake/channels", ChannelJson("1656000101", kTokenB));
  EXPECT_EQ(taken.status, 409) << taken.body;
  EXPECT_EQ(client().Get("/fake/channels/1656000101").status, 404);

  EXPECT_EQ(client().PostJson("/fake/channels", ChannelJson("bad/id", "t")).status, 400);
}

TEST_F(ControlApiTest, PatchRejectsBadInput) {
  EXPECT_EQ(Patch(kChannelA, R"({"nope": 1})").status, 400);
  EXPECT_EQ(Patch(kChannelA, R"({"fail_status": 42})").status, 400);
  EXPECT_EQ(Patch(kChannelA, R"({"delay_ms": -1})").status, 400);
  EXPECT_EQ(Patch(kChannelA, R"({"webhook_active": "yes"})").status, 400);
  EXPECT_EQ(Patch(kChannelA, "[1]").status, 400);
  EXPECT_EQ(Patch("1656999999", R"({"webhook_active": true})").status, 404);
}

TEST_F(ControlApiTest, RevokedTokenFailsVerifyAndBotCalls) {
  HttpReply patched = Patch(kChannelA, R"({"token_revoked": true})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_TRUE(JsonView(patched.body).Bool("/token_revoked"));
  EXPECT_EQ(
      client().PostForm("/v2/oauth/verify", "access_token=long-lived-token-A%2B%2F%3D").status,
      400);
  EXPECT_EQ(BotInfo(kTokenA).status, 401);
  EXPECT_EQ(GetEndpoint(kTokenA).status, 401);
  // Channel ID + secret still work: stateless tokens are unaffected.
  EXPECT_EQ(Token(kChannelA, kSecretA).status, 200);

  ASSERT_EQ(Patch(kChannelA, R"({"token_revoked": false})").status, 200);
  EXPECT_EQ(BotInfo(kTokenA).status, 200);
}

TEST_F(ControlApiTest, ReissuedSecretReplacesTheOldOne) {
  HttpReply patched = Patch(kChannelA, R"({"reissue_secret": true})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  const std::string secret = JsonView(patched.body).Str("/channel_secret");
  EXPECT_TRUE(IsHex32(secret)) << secret;
  EXPECT_NE(secret, kSecretA);
  EXPECT_EQ(Token(kChannelA, kSecretA).status, 400);
  EXPECT_EQ(Token(kChannelA, secret).status, 200);

  WebhookReceiver receiver;
  HttpReply sent =
      SendWebhooks(kChannelA, absl::StrCat("{\"endpoint\":", Quote(receiver.Url()), "}"));
  ASSERT_EQ(sent.status, 200) << sent.body;
  ASSERT_EQ(receiver.requests().size(), 1u);
  const WebhookReceiver::Request request = receiver.requests()[0];
  EXPECT_EQ(request.Header("x-line-signature"), IndependentSignature(secret, request.body));
  EXPECT_NE(request.Header("x-line-signature"), IndependentSignature(kSecretA, request.body));
}

TEST_F(ControlApiTest, ReissuedTokenReplacesTheOldOne) {
  HttpReply patched = Patch(kChannelA, R"({"reissue_token": true})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  const std::string token = JsonView(patched.body).Str("/access_token");
  ASSERT_FALSE(token.empty());
  EXPECT_NE(token, kTokenA);
  EXPECT_EQ(BotInfo(kTokenA).status, 401);
  HttpReply old_verify =
      client().PostForm("/v2/oauth/verify", "access_token=long-lived-token-A%2B%2F%3D");
  EXPECT_EQ(old_verify.status, 400);
  EXPECT_EQ(JsonView(old_verify.body).Str("/error_description"), "invalid access token");
  EXPECT_EQ(BotInfo(token).status, 200);
  HttpReply verify = client().PostForm("/v2/oauth/verify", "access_token=" + token);
  EXPECT_EQ(JsonView(verify.body).Str("/client_id"), kChannelA) << verify.body;
}

TEST_F(ControlApiTest, UseWebhookSwitchAndEndpointRepointing) {
  WebhookReceiver receiver;
  ASSERT_EQ(Patch(kChannelA, absl::StrCat("{\"webhook_endpoint\":", Quote(receiver.Url()),
                                          ", \"webhook_active\": false}"))
                .status,
            200);
  HttpReply got = GetEndpoint(kTokenA);
  EXPECT_EQ(JsonView(got.body).Str("/endpoint"), receiver.Url());
  EXPECT_FALSE(JsonView(got.body).Bool("/active"));

  // With "Use webhook" off, LINE sends nothing.
  HttpReply skipped = SendWebhooks(kChannelA, "{}");
  ASSERT_EQ(skipped.status, 200) << skipped.body;
  EXPECT_FALSE(JsonView(skipped.body).Bool("/sent"));
  EXPECT_EQ(JsonView(skipped.body).Int("/status"), 0);
  EXPECT_TRUE(receiver.requests().empty());

  ASSERT_EQ(Patch(kChannelA, R"({"webhook_active": true})").status, 200);
  EXPECT_TRUE(JsonView(GetEndpoint(kTokenA).body).Bool("/active"));
  HttpReply sent = SendWebhooks(kChannelA, "{}");
  EXPECT_TRUE(JsonView(sent.body).Bool("/sent")) << sent.body;
  EXPECT_EQ(JsonView(sent.body).Int("/status"), 200);
  EXPECT_EQ(receiver.requests().size(), 1u);

  ASSERT_EQ(Patch(kChannelA, R"({"webhook_endpoint": "https://elsewhere.example.com/x"})").status,
            200);
  EXPECT_EQ(JsonView(GetEndpoint(kTokenA).body).Str("/endpoint"),
            "https://elsewhere.example.com/x");
  ASSERT_EQ(Patch(kChannelA, R"({"webhook_endpoint": ""})").status, 200);
  EXPECT_EQ(GetEndpoint(kTokenA).status, 404);
}

TEST_F(ControlApiTest, FailStatus429AnswersInEachEndpointsShape) {
  ASSERT_EQ(Patch(kChannelA, R"({"fail_status": 429})").status, 200);
  HttpReply bot = BotInfo(kTokenA);
  EXPECT_EQ(bot.status, 429);
  EXPECT_FALSE(bot.Header("retry-after").empty());
  EXPECT_TRUE(JsonView(bot.body).IsString("/message")) << bot.body;
  HttpReply token = Token(kChannelA, kSecretA);
  EXPECT_EQ(token.status, 429);
  EXPECT_TRUE(JsonView(token.body).IsString("/error")) << token.body;
  EXPECT_TRUE(JsonView(token.body).IsString("/error_description")) << token.body;
  EXPECT_EQ(TestWebhook(kTokenA).status, 429);
  // Channel B is untouched, and failed calls are still counted.
  EXPECT_EQ(BotInfo(kTokenB).status, 200);
  EXPECT_EQ(State(kChannelA).Int("/calls/bot_info"), 1);

  ASSERT_EQ(Patch(kChannelA, R"({"fail_status": 0})").status, 200);
  EXPECT_EQ(BotInfo(kTokenA).status, 200);
}

TEST_F(ControlApiTest, FailStatus500And503) {
  ASSERT_EQ(Patch(kChannelA, R"({"fail_status": 500})").status, 200);
  HttpReply bot = GetEndpoint(kTokenA);
  EXPECT_EQ(bot.status, 500);
  EXPECT_TRUE(JsonView(bot.body).IsString("/message")) << bot.body;
  HttpReply verify =
      client().PostForm("/v2/oauth/verify", "access_token=long-lived-token-A%2B%2F%3D");
  EXPECT_EQ(verify.status, 500);
  EXPECT_TRUE(JsonView(verify.body).IsString("/error")) << verify.body;
  ASSERT_EQ(Patch(kChannelA, R"({"fail_status": 503})").status, 200);
  EXPECT_EQ(SetEndpoint(kTokenA, "https://example.com/x").status, 503);
}

TEST_F(ControlApiTest, DelayMsSlowsOnlyThatChannel) {
  HttpReply patched = Patch(kChannelA, R"({"delay_ms": 300})");
  ASSERT_EQ(patched.status, 200);
  EXPECT_EQ(JsonView(patched.body).Int("/delay_ms"), 300);
  absl::Time start = absl::Now();
  EXPECT_EQ(BotInfo(kTokenA).status, 200);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  start = absl::Now();
  EXPECT_EQ(Token(kChannelA, kSecretA).status, 200);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  ASSERT_EQ(Patch(kChannelA, R"({"delay_ms": 0})").status, 200);
}

TEST_F(ControlApiTest, GlobalFaultsHitEveryManagementCallButNotTheControlApi) {
  HttpReply set = client().PatchJson("/fake/faults", R"({"fail_status": 503})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(JsonView(set.body).Int("/fail_status"), 503);
  EXPECT_EQ(BotInfo(kTokenB).status, 503);
  EXPECT_EQ(BotInfo("unknown token").status, 503);
  EXPECT_EQ(Token("1656999999", "x").status, 503);
  EXPECT_EQ(client().Get("/fake/health").status, 200);
  // A channel's own fault wins over the global one.
  ASSERT_EQ(Patch(kChannelA, R"({"fail_status": 429})").status, 200);
  EXPECT_EQ(BotInfo(kTokenA).status, 429);

  ASSERT_EQ(client().PatchJson("/fake/faults", R"({"fail_status": 0, "delay_ms": 200})").status,
            200);
  EXPECT_EQ(JsonView(client().Get("/fake/faults").body).Int("/delay_ms"), 200);
  const absl::Time start = absl::Now();
  EXPECT_EQ(BotInfo(kTokenB).status, 200);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(200));
  EXPECT_EQ(client().PatchJson("/fake/faults", R"({"fail_status": 7})").status, 400);
  EXPECT_EQ(client().PatchJson("/fake/faults", R"({"delay_ms": 0})").status, 200);
}

TEST_F(ControlApiTest, ClockAdvance) {
  HttpReply advanced = client().PostJson("/fake/clock/advance", R"({"seconds": 3600})");
  ASSERT_EQ(advanced.status, 200) << advanced.body;
  EXPECT_EQ(JsonView(advanced.body).Int("/offset_seconds"), 3600);
  EXPECT_FALSE(JsonView(advanced.body).Str("/now").empty());
  EXPECT_EQ(client().PostJson("/fake/clock/advance", R"({"seconds": -5})").status, 400);
  EXPECT_EQ(client().PostJson("/fake/clock/advance", R"({"minutes": 5})").status, 400);
  EXPECT_EQ(client().Get("/fake/clock/advance").status, 405);
}

TEST_F(ControlApiTest, ChatModeIsPartOfTheChannelAndPatchable) {
  JsonView state = State(kChannelA);
  EXPECT_EQ(state.Str("/chat_mode"), "chat");
  EXPECT_EQ(state.Str("/mark_as_read_mode"), "manual");

  // Turning chat off means LINE reads automatically.
  HttpReply off = Patch(kChannelA, R"({"chat_mode": "bot"})");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(JsonView(off.body).Str("/mark_as_read_mode"), "auto");
  JsonView info(BotInfo(kTokenA).body);
  EXPECT_EQ(info.Str("/chatMode"), "bot");
  EXPECT_EQ(info.Str("/markAsReadMode"), "auto");
  EXPECT_EQ(Patch(kChannelA, R"({"mark_as_read_mode": "manual"})").status, 400);
  EXPECT_EQ(Patch(kChannelA, R"({"chat_mode": "off"})").status, 400);
  EXPECT_EQ(State(kChannelA).Str("/chat_mode"), "bot");

  ASSERT_EQ(Patch(kChannelA, R"({"chat_mode": "chat", "mark_as_read_mode": "auto"})").status, 200);
  JsonView on(BotInfo(kTokenA).body);
  EXPECT_EQ(on.Str("/chatMode"), "chat");
  EXPECT_EQ(on.Str("/markAsReadMode"), "auto");

  HttpReply added = client().PostJson(
      "/fake/channels",
      absl::StrCat(ChannelJson("1656000300", "t300").substr(0, 1), R"("chat_mode": "bot", )",
                   ChannelJson("1656000300", "t300").substr(1)));
  ASSERT_EQ(added.status, 200) << added.body;
  EXPECT_EQ(JsonView(BotInfo("t300").body).Str("/chatMode"), "bot");
}

TEST_F(ControlApiTest, ClockFreeze) {
  HttpReply frozen = client().PostJson("/fake/clock/freeze", R"({"frozen": true})");
  ASSERT_EQ(frozen.status, 200) << frozen.body;
  EXPECT_TRUE(JsonView(frozen.body).Bool("/frozen"));
  const std::string now = JsonView(frozen.body).Str("/now");
  EXPECT_EQ(JsonView(client().Get("/fake/clock").body).Str("/now"), now);
  EXPECT_EQ(client().PostJson("/fake/clock/freeze", R"({"frozen": 1})").status, 400);
  ASSERT_EQ(client().PostJson("/fake/clock/freeze", R"({"frozen": false})").status, 200);
  EXPECT_FALSE(JsonView(client().Get("/fake/clock").body).Bool("/frozen"));
}

TEST_F(ControlApiTest, MessagingSettingsAndUsers) {
  const std::string path = absl::StrCat("/fake/channels/", kChannelA, "/messaging");
  JsonView defaults(client().Get(path).body);
  EXPECT_EQ(defaults.Int("/message_quota"), -1);
  EXPECT_EQ(defaults.Int("/rate_limit_per_second"), 0);
  EXPECT_EQ(defaults.Int("/reply_token_lifetime_seconds"), 60);
  EXPECT_EQ(defaults.Int("/media_processing_seconds"), 10);
  EXPECT_EQ(defaults.Int("/quota_usage"), 0);
  HttpReply set = client().PatchJson(path, R"({"message_quota": 500, "rate_limit_per_second": 9})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(JsonView(set.body).Int("/message_quota"), 500);
  EXPECT_EQ(JsonView(set.body).Int("/rate_limit_per_second"), 9);
  EXPECT_EQ(client().PatchJson(path, R"({"message_quota": -2})").status, 400);
  EXPECT_EQ(client().PatchJson(path, R"({"quota": 1})").status, 400);

  HttpReply users =
      client().PostJson(absl::StrCat("/fake/channels/", kChannelA, "/users"), R"({"count": 3})");
  ASSERT_EQ(users.status, 200) << users.body;
  EXPECT_EQ(JsonView(users.body).Size("/user_ids"), 3u);
  EXPECT_EQ(
      client()
          .PostJson(absl::StrCat("/fake/channels/", kChannelA, "/users"), R"({"group_id": "X1"})")
          .status,
      400);
  EXPECT_EQ(client().Get("/fake/channels/1656999999/sent").status, 404);

  // Replacing the channel forgets its users and settings.
  ASSERT_EQ(client().PostJson("/fake/channels", ChannelJson(kChannelA, kTokenA)).status, 200);
  EXPECT_EQ(JsonView(client().Get(path).body).Int("/message_quota"), -1);
  EXPECT_EQ(client()
                .Get("/v2/bot/profile/" + JsonView(users.body).Str("/user_ids/0"), Bearer(kTokenA))
                .status,
            404);
}

TEST_F(ControlApiTest, UnknownControlPaths) {
  EXPECT_EQ(client().Get("/fake/nothing").status, 404);
  EXPECT_EQ(client().PostJson("/fake/health", "{}").status, 405);
}

}  // namespace
}  // namespace linechannel::testing
