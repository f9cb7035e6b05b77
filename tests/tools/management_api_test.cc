// LINE's management API as fake_line serves it: every endpoint's success and error shapes.
#include <set>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/tools/fake_line_test_base.h"
#include "tests/tools/independent_signature.h"
#include "tests/tools/webhook_receiver.h"

namespace linechannel::testing {
namespace {

constexpr char kAuthFailed[] =
    "Authentication failed. Confirm that the access token in the authorization header is valid.";
constexpr char kRateLimited[] = "The API rate limit has been exceeded. Try again later.";

void ExpectOAuthError(const HttpReply& reply, const std::string& error) {
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_EQ(reply.Header("content-type"), "application/json");
  JsonView json(reply.body);
  EXPECT_EQ(json.Str("/error"), error) << reply.body;
  EXPECT_TRUE(json.IsString("/error_description")) << reply.body;
}

void ExpectInvalidEndpoint(const HttpReply& reply) {
  EXPECT_EQ(reply.status, 400) << reply.body;
  JsonView json(reply.body);
  EXPECT_EQ(json.Str("/message"), "Invalid webhook endpoint URL") << reply.body;
  EXPECT_EQ(json.Str("/details/0/property"), "endpoint") << reply.body;
  EXPECT_TRUE(json.IsString("/details/0/message")) << reply.body;
}

using ManagementApiTest = FakeLineTest;

TEST_F(ManagementApiTest, IssuesStatelessTokenThatWorksForFifteenMinutes) {
  HttpReply reply = Token(kChannelA, kSecretA);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.Header("content-type"), "application/json");
  JsonView json(reply.body);
  EXPECT_EQ(json.Str("/token_type"), "Bearer");
  EXPECT_EQ(json.Int("/expires_in"), 900);
  const std::string token = json.Str("/access_token");
  ASSERT_FALSE(token.empty());

  HttpReply info = BotInfo(token);
  EXPECT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(JsonView(info.body).Str("/userId"), kBotA);
  HttpReply verify = client().PostForm("/v2/oauth/verify", "access_token=" + token);
  EXPECT_EQ(verify.status, 200) << verify.body;
  EXPECT_EQ(JsonView(verify.body).Str("/client_id"), kChannelA);

  AdvanceClock(899);
  EXPECT_EQ(BotInfo(token).status, 200);
  AdvanceClock(2);
  HttpReply expired = BotInfo(token);
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(JsonView(expired.body).Str("/message"), kAuthFailed);
}

TEST_F(ManagementApiTest, DecodesFormEncoding) {
  ASSERT_EQ(client()
                .PostJson("/fake/channels", R"({"channel_id": "1656000077",
                  "channel_secret": "a+b&c d%=", "access_token": "t77",
                  "bot_user_id": "U77", "basic_id": "@77"})")
                .status,
            200);
  EXPECT_EQ(Token("1656000077", "a%2Bb%26c+d%25%3D").status, 200);
  // Unencoded, '+' is a space and '&' ends the field.
  ExpectOAuthError(Token("1656000077", "a+b"), "invalid_client");
  ExpectOAuthError(client().PostForm("/oauth2/v3/token",
                                     "grant_type=client_credentials&client_id=1656000077&"
                                     "client_secret=%zz"),
                   "invalid_request");
}

TEST_F(ManagementApiTest, TokenErrors) {
  ExpectOAuthError(Token(kChannelA, kSecretB), "invalid_client");
  ExpectOAuthError(Token("1656999999", kSecretA), "invalid_client");
  ExpectOAuthError(client().PostForm("/oauth2/v3/token",
                                     absl::StrCat("grant_type=password&client_id=", kChannelA,
                                                  "&client_secret=", kSecretA)),
                   "unsupported_grant_type");
  ExpectOAuthError(
      client().PostForm("/oauth2/v3/token",
                        absl::StrCat("grant_type=client_credentials&client_id=", kChannelA)),
      "invalid_request");
  ExpectOAuthError(client().PostForm("/oauth2/v3/token", absl::StrCat("client_id=", kChannelA,
                                                                      "&client_secret=", kSecretA)),
                   "invalid_request");
  ExpectOAuthError(client().PostForm("/oauth2/v3/token", ""), "invalid_request");
}

TEST_F(ManagementApiTest, VerifiesLongLivedToken) {
  HttpReply reply =
      client().PostForm("/v2/oauth/verify", "access_token=long-lived-token-A%2B%2F%3D");
  ASSERT_EQ(reply.status, 200) << reply.body;
  JsonView json(reply.body);
  EXPECT_EQ(json.Str("/client_id"), kChannelA);
  EXPECT_GT(json.Int("/expires_in"), 100000000);
  EXPECT_FALSE(json.Str("/scope").empty());
}

TEST_F(ManagementApiTest, VerifyErrors) {
  HttpReply unknown = client().PostForm("/v2/oauth/verify", "access_token=nope");
  ExpectOAuthError(unknown, "invalid_request");
  EXPECT_EQ(JsonView(unknown.body).Str("/error_description"), "invalid access token");
  ExpectOAuthError(client().PostForm("/v2/oauth/verify", ""), "invalid_request");

  ASSERT_EQ(Patch(kChannelB, R"({"token_revoked": true})").status, 200);
  HttpReply revoked = client().PostForm("/v2/oauth/verify", absl::StrCat("access_token=", kTokenB));
  ExpectOAuthError(revoked, "invalid_request");
  EXPECT_EQ(JsonView(revoked.body).Str("/error_description"), "access token expired");
}

TEST_F(ManagementApiTest, BotInfoShapes) {
  HttpReply a = BotInfo(kTokenA);
  ASSERT_EQ(a.status, 200) << a.body;
  JsonView json_a(a.body);
  EXPECT_EQ(json_a.Str("/userId"), kBotA);
  EXPECT_EQ(json_a.Str("/basicId"), "@123abcde");
  EXPECT_EQ(json_a.Str("/displayName"), "Shop A");
  EXPECT_EQ(json_a.Str("/chatMode"), "chat");
  EXPECT_EQ(json_a.Str("/markAsReadMode"), "manual");
  EXPECT_FALSE(json_a.Has("/premiumId"));
  EXPECT_FALSE(json_a.Has("/pictureUrl"));

  HttpReply b = BotInfo(kTokenB);
  ASSERT_EQ(b.status, 200) << b.body;
  JsonView json_b(b.body);
  EXPECT_EQ(json_b.Str("/userId"), kBotB);
  EXPECT_EQ(json_b.Str("/basicId"), "@987zyxwv");
  EXPECT_EQ(json_b.Str("/premiumId"), "@shopb");
  EXPECT_EQ(json_b.Str("/pictureUrl"), "https://profile.line-scdn.net/b");
  EXPECT_EQ(json_b.Str("/displayName"), "Shop B \u30b7\u30e7\u30c3\u30d7");
}

TEST_F(ManagementApiTest, BotCallsRefuseMissingOrBadTokens) {
  HttpReply missing = client().Get("/v2/bot/info");
  EXPECT_EQ(missing.status, 401);
  EXPECT_TRUE(absl::StrContains(JsonView(missing.body).Str("/message"), "Authorization"))
      << missing.body;
  HttpReply unknown = BotInfo("not-a-token");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(JsonView(unknown.body).Str("/message"), kAuthFailed);
  HttpReply basic =
      client().Get("/v2/bot/info", {{"Authorization", std::string("Basic ") + kTokenA}});
  EXPECT_EQ(basic.status, 401);
  EXPECT_EQ(GetEndpoint("not-a-token").status, 401);
  EXPECT_EQ(SetEndpoint("not-a-token", "https://example.com/x").status, 401);
  EXPECT_EQ(TestWebhook("not-a-token").status, 401);
}

TEST_F(ManagementApiTest, SetsAndReadsWebhookEndpoint) {
  HttpReply none = GetEndpoint(kTokenA);
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(JsonView(none.body).Str("/message"), "Not found");

  HttpReply set = SetEndpoint(kTokenA, "https://hooks.example.com/line/webhook/abc");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.body, "{}");
  HttpReply got = GetEndpoint(kTokenA);
  ASSERT_EQ(got.status, 200) << got.body;
  JsonView json(got.body);
  EXPECT_EQ(json.Str("/endpoint"), "https://hooks.example.com/line/webhook/abc");
  EXPECT_TRUE(json.Has("/active"));
  EXPECT_TRUE(json.Bool("/active"));

  // Channel B's "Use webhook" switch is off in the fixture.
  HttpReply b = GetEndpoint(kTokenB);
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(JsonView(b.body).Str("/endpoint"), "https://example.com/hook");
  EXPECT_TRUE(JsonView(b.body).Has("/active"));
  EXPECT_FALSE(JsonView(b.body).Bool("/active"));
  EXPECT_EQ(State(kChannelA).Str("/webhook_endpoint"),
            "https://hooks.example.com/line/webhook/abc");
}

TEST_F(ManagementApiTest, ServesRichMenusAndTheDefaultOne) {
  HttpReply list = client().Get("/v2/bot/richmenu/list", Bearer(kTokenA));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.body, R"({"richmenus":[]})");
  HttpReply none = client().Get("/v2/bot/user/all/richmenu", Bearer(kTokenA));
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(JsonView(none.body).Str("/message"), "no default richmenu");

  HttpReply patched = Patch(kChannelA, R"({"rich_menus":[
      {"rich_menu_id":"richmenu-a","name":"spring","chat_bar_text":"Menu"},
      {"rich_menu_id":"richmenu-b"}], "default_rich_menu_id":"richmenu-b"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(JsonView(patched.body).Str("/rich_menus/0/name"), "spring");
  EXPECT_EQ(JsonView(patched.body).Str("/default_rich_menu_id"), "richmenu-b");

  list = client().Get("/v2/bot/richmenu/list", Bearer(kTokenA));
  ASSERT_EQ(list.status, 200) << list.body;
  JsonView json(list.body);
  EXPECT_EQ(json.Str("/richmenus/0/richMenuId"), "richmenu-a");
  EXPECT_EQ(json.Str("/richmenus/0/name"), "spring");
  EXPECT_EQ(json.Str("/richmenus/0/chatBarText"), "Menu");
  EXPECT_EQ(json.Int("/richmenus/0/size/width"), 2500);
  EXPECT_TRUE(json.Has("/richmenus/0/selected"));
  EXPECT_EQ(json.Str("/richmenus/1/richMenuId"), "richmenu-b");
  HttpReply set = client().Get("/v2/bot/user/all/richmenu", Bearer(kTokenA));
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(JsonView(set.body).Str("/richMenuId"), "richmenu-b");
  // Another channel's token sees that channel's (none).
  EXPECT_EQ(client().Get("/v2/bot/richmenu/list", Bearer(kTokenB)).body, R"({"richmenus":[]})");

  EXPECT_EQ(client().Get("/v2/bot/richmenu/list", Bearer("not-a-token")).status, 401);
  EXPECT_EQ(client().Get("/v2/bot/user/all/richmenu", Bearer("not-a-token")).status, 401);
  EXPECT_EQ(State(kChannelA).Int("/calls/rich_menu_list"), 2);
  EXPECT_EQ(State(kChannelB).Int("/calls/rich_menu_list"), 1);
  EXPECT_EQ(State(kChannelA).Int("/calls/default_rich_menu"), 2);

  // The default must be one of the channel's menus; a refused patch changes nothing.
  EXPECT_EQ(Patch(kChannelA, R"({"default_rich_menu_id":"richmenu-z"})").status, 400);
  EXPECT_EQ(Patch(kChannelA, R"({"rich_menus":[]})").status, 400);
  EXPECT_EQ(
      Patch(kChannelA, R"({"rich_menus":[{"rich_menu_id":"x"},{"rich_menu_id":"x"}]})").status,
      400);
  EXPECT_EQ(Patch(kChannelA, R"({"rich_menus":[{"id":"x"}]})").status, 400);
  EXPECT_EQ(State(kChannelA).Str("/default_rich_menu_id"), "richmenu-b");
  ASSERT_EQ(Patch(kChannelA, R"({"rich_menus":[], "default_rich_menu_id":""})").status, 200);
  EXPECT_EQ(client().Get("/v2/bot/user/all/richmenu", Bearer(kTokenA)).status, 404);
}

TEST_F(ManagementApiTest, SetEndpointRejectsBadInput) {
  ExpectInvalidEndpoint(SetEndpoint(kTokenA, "ftp://example.com/x"));
  ExpectInvalidEndpoint(SetEndpoint(kTokenA, "not a url"));
  ExpectInvalidEndpoint(SetEndpoint(kTokenA, ""));
  ExpectInvalidEndpoint(SetEndpoint(kTokenA, "https://"));
  const std::string long_url = "https://example.com/" + std::string(481, 'a');
  ASSERT_EQ(long_url.size(), 501u);
  ExpectInvalidEndpoint(SetEndpoint(kTokenA, long_url));
  EXPECT_EQ(SetEndpoint(kTokenA, long_url.substr(0, 500)).status, 200);

  HttpReply missing =
      client().PutJson("/v2/bot/channel/webhook/endpoint", R"({"url": "x"})", Bearer(kTokenA));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(JsonView(missing.body).Str("/details/0/property"), "endpoint") << missing.body;
  HttpReply garbage =
      client().PutJson("/v2/bot/channel/webhook/endpoint", "{nope", Bearer(kTokenA));
  EXPECT_EQ(garbage.status, 400);
  EXPECT_TRUE(JsonView(garbage.body).IsString("/message")) << garbage.body;
}

TEST_F(ManagementApiTest, SetEndpointIsLimitedToAThousandPerMinute) {
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(SetEndpoint(kTokenA, absl::StrCat("https://example.com/", i)).status, 200) << i;
  }
  HttpReply limited = SetEndpoint(kTokenA, "https://example.com/over");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(JsonView(limited.body).Str("/message"), kRateLimited);
  // The limit is per channel.
  EXPECT_EQ(SetEndpoint(kTokenB, "https://example.com/b").status, 200);
  AdvanceClock(61);
  EXPECT_EQ(SetEndpoint(kTokenA, "https://example.com/later").status, 200);
}

TEST_F(ManagementApiTest, TestWebhookPostsSignedEmptyEvents) {
  WebhookReceiver receiver;
  ASSERT_EQ(SetEndpoint(kTokenA, receiver.Url("/line/webhook/key")).status, 200);
  HttpReply reply = TestWebhook(kTokenA);
  ASSERT_EQ(reply.status, 200) << reply.body;
  JsonView json(reply.body);
  EXPECT_TRUE(json.Bool("/success")) << reply.body;
  EXPECT_EQ(json.Str("/reason"), "OK");
  EXPECT_EQ(json.Int("/statusCode"), 200);
  EXPECT_EQ(json.Str("/detail"), "200");
  const std::string timestamp = json.Str("/timestamp");
  ASSERT_EQ(timestamp.size(), 24u) << timestamp;  // 2020-09-30T05:38:20.031Z
  EXPECT_EQ(timestamp[10], 'T');
  EXPECT_EQ(timestamp.back(), 'Z');

  std::vector<WebhookReceiver::Request> requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  const WebhookReceiver::Request& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/line/webhook/key");
  EXPECT_EQ(request.body, absl::StrCat(R"({"destination":")", kBotA, R"(","events":[]})"));
  EXPECT_EQ(request.Header("x-line-signature"), IndependentSignature(kSecretA, request.body));
  EXPECT_EQ(request.Header("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(request.Header("user-agent"), "LineBotWebhook/2.0");
}

TEST_F(ManagementApiTest, TestWebhookTakesAnEndpointOverride) {
  WebhookReceiver receiver;
  HttpReply reply =
      TestWebhook(kTokenA, absl::StrCat("{\"endpoint\":", Quote(receiver.Url("/other")), "}"));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_TRUE(JsonView(reply.body).Bool("/success")) << reply.body;
  ASSERT_EQ(receiver.requests().size(), 1u);
  EXPECT_EQ(receiver.requests()[0].target, "/other");
  // The registered endpoint is left alone.
  EXPECT_EQ(GetEndpoint(kTokenA).status, 404);

  ExpectInvalidEndpoint(TestWebhook(kTokenA, R"({"endpoint": "ftp://x"})"));
}

TEST_F(ManagementApiTest, TestWebhookWithoutAnyEndpointIs400) {
  HttpReply reply = TestWebhook(kTokenA);
  EXPECT_EQ(reply.status, 400) << reply.body;
  EXPECT_TRUE(JsonView(reply.body).IsString("/message")) << reply.body;
}

TEST_F(ManagementApiTest, TestWebhookReportsErrorStatusCodes) {
  WebhookReceiver receiver;
  ASSERT_EQ(SetEndpoint(kTokenA, receiver.Url()).status, 200);
  for (int status : {404, 500}) {
    receiver.AnswerWith(status);
    HttpReply reply = TestWebhook(kTokenA);
    ASSERT_EQ(reply.status, 200) << reply.body;
    JsonView json(reply.body);
    EXPECT_TRUE(json.Has("/success"));
    EXPECT_FALSE(json.Bool("/success")) << reply.body;
    EXPECT_EQ(json.Str("/reason"), "ERROR_STATUS_CODE");
    EXPECT_EQ(json.Int("/statusCode"), status);
    EXPECT_EQ(json.Str("/detail"), status == 404 ? "404 Not Found" : "500 Internal Server Error");
  }
}

TEST_F(ManagementApiTest, TestWebhookReportsConnectionRefused) {
  ASSERT_EQ(SetEndpoint(kTokenA, absl::StrCat("http://127.0.0.1:", ClosedPort(), "/x")).status,
            200);
  HttpReply reply = TestWebhook(kTokenA);
  ASSERT_EQ(reply.status, 200) << reply.body;
  JsonView json(reply.body);
  EXPECT_FALSE(json.Bool("/success"));
  EXPECT_EQ(json.Str("/reason"), "COULD_NOT_CONNECT");
  EXPECT_EQ(json.Int("/statusCode"), 0);
  EXPECT_TRUE(json.Has("/statusCode"));
  EXPECT_TRUE(absl::StrContains(json.Str("/detail"), "refused")) << reply.body;
}

TEST_F(ManagementApiTest, TestWebhookTimesOutOnASlowEndpoint) {
  StartFake({DefaultFixture(), {"--webhook_timeout=300ms"}});
  WebhookReceiver receiver;
  receiver.Hold();
  ASSERT_EQ(SetEndpoint(kTokenA, receiver.Url()).status, 200);
  const absl::Time start = absl::Now();
  HttpReply reply = TestWebhook(kTokenA);
  const absl::Duration took = absl::Now() - start;
  ASSERT_EQ(reply.status, 200) << reply.body;
  JsonView json(reply.body);
  EXPECT_FALSE(json.Bool("/success"));
  EXPECT_EQ(json.Str("/reason"), "REQUEST_TIMEOUT");
  EXPECT_EQ(json.Int("/statusCode"), 0);
  EXPECT_GE(took, absl::Milliseconds(290));
  EXPECT_LT(took, absl::Seconds(5));
  EXPECT_EQ(receiver.requests().size(), 1u);

  HttpReply control = SendWebhooks(kChannelA, "{}");
  ASSERT_EQ(control.status, 200) << control.body;
  EXPECT_EQ(JsonView(control.body).Int("/status"), 0);
  EXPECT_TRUE(absl::StrContains(JsonView(control.body).Str("/error"), "timed out")) << control.body;
  receiver.Release();
}

TEST_F(ManagementApiTest, TestWebhookIsLimitedTo60PerHour) {
  WebhookReceiver receiver;
  ASSERT_EQ(SetEndpoint(kTokenA, receiver.Url()).status, 200);
  for (int i = 0; i < 60; ++i) {
    HttpReply reply = TestWebhook(kTokenA);
    ASSERT_EQ(reply.status, 200) << i << " " << reply.body;
  }
  HttpReply limited = TestWebhook(kTokenA);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(JsonView(limited.body).Str("/message"), kRateLimited);
  EXPECT_EQ(receiver.requests().size(), 60u);
  EXPECT_EQ(State(kChannelA).Int("/test_endpoint_calls_last_hour"), 60);

  AdvanceClock(30 * 60);
  EXPECT_EQ(TestWebhook(kTokenA).status, 429);
  AdvanceClock(30 * 60);
  HttpReply again = TestWebhook(kTokenA);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_TRUE(JsonView(again.body).Bool("/success"));
}

TEST_F(ManagementApiTest, TestWebhookDoesNotBlockOtherRequests) {
  StartFake({DefaultFixture(), {"--webhook_timeout=20s"}});
  WebhookReceiver receiver;
  receiver.Hold();
  ASSERT_EQ(SetEndpoint(kTokenA, receiver.Url()).status, 200);
  HttpReply held;
  std::thread caller([&] {
    TestHttpClient own(fake().port());
    held = own.PostJson("/v2/bot/channel/webhook/test", "", Bearer(kTokenA));
  });
  ASSERT_TRUE(receiver.WaitForRequests(1));
  // The fake is now inside the test call's POST; it still serves everyone else.
  EXPECT_EQ(client().Get("/fake/health").status, 200);
  EXPECT_EQ(BotInfo(kTokenA).status, 200);
  EXPECT_EQ(BotInfo(kTokenB).status, 200);
  receiver.Release();
  caller.join();
  ASSERT_EQ(held.status, 200) << held.body;
  EXPECT_TRUE(JsonView(held.body).Bool("/success")) << held.body;
}

TEST_F(ManagementApiTest, UnknownPathsAndWrongMethods) {
  HttpReply unknown = client().Get("/v2/bot/nope", Bearer(kTokenA));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(JsonView(unknown.body).Str("/message"), "Not found");
  HttpReply wrong = client().PostJson("/v2/bot/info", "{}", Bearer(kTokenA));
  EXPECT_EQ(wrong.status, 405);
  EXPECT_TRUE(JsonView(wrong.body).IsString("/message"));
  EXPECT_EQ(client().Get("/oauth2/v3/token").status, 405);
  absl::StatusOr<HttpReply> deleted =
      client().Call("DELETE", "/v2/bot/channel/webhook/endpoint", "", Bearer(kTokenA));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->status, 405);
  EXPECT_EQ(deleted->Header("allow"), "GET, PUT");
}

TEST_F(ManagementApiTest, EveryResponseCarriesARequestId) {
  std::set<std::string> ids;
  const std::vector<HttpReply> replies = {Token(kChannelA, kSecretA),
                                          Token(kChannelA, "wrong"),
                                          BotInfo(kTokenA),
                                          BotInfo("bad"),
                                          GetEndpoint(kTokenA),
                                          client().Get("/nope"),
                                          client().Get("/fake/health"),
                                          client().PostJson("/v2/bot/info", "{}")};
  for (const HttpReply& reply : replies) {
    const std::string id = reply.Header("x-line-request-id");
    EXPECT_FALSE(id.empty()) << reply.status << " " << reply.body;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), replies.size());
}

TEST_F(ManagementApiTest, CountsCallsPerEndpoint) {
  WebhookReceiver receiver;
  Token(kChannelA, kSecretA);
  Token(kChannelA, "wrong secret still counts");
  client().PostForm("/v2/oauth/verify", "access_token=long-lived-token-A%2B%2F%3D");
  BotInfo(kTokenA);
  SetEndpoint(kTokenA, receiver.Url());
  GetEndpoint(kTokenA);
  GetEndpoint(kTokenA);
  TestWebhook(kTokenA);
  JsonView state = State(kChannelA);
  EXPECT_EQ(state.Int("/calls/token"), 2);
  EXPECT_EQ(state.Int("/calls/verify"), 1);
  EXPECT_EQ(state.Int("/calls/bot_info"), 1);
  EXPECT_EQ(state.Int("/calls/set_endpoint"), 1);
  EXPECT_EQ(state.Int("/calls/get_endpoint"), 2);
  EXPECT_EQ(state.Int("/calls/test_endpoint"), 1);
  EXPECT_EQ(State(kChannelB).Int("/calls/token"), 0);
}

}  // namespace
}  // namespace linechannel::testing
