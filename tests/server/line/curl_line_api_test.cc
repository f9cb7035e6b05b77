#include "server/line/curl_line_api.h"

#include <atomic>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/scripted_http_server.h"

namespace linechannel::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScriptedHttpServer;
using Response = ScriptedHttpServer::Response;
using Request = ScriptedHttpServer::Request;

absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

CurlLineApi Client(const ScriptedHttpServer& server) {
  return CurlLineApi({server.base_url(), absl::Seconds(5), absl::Seconds(2), ""});
}

TEST(CurlLineApiTest, ChecksASecretWithAFormPostAndThrowsTheTokenAway) {
  ScriptedHttpServer server([](const Request&) {
    return Response{200, R"({"token_type":"Bearer","access_token":"eyJ.x.y","expires_in":900})"};
  });
  CurlLineApi line = Client(server);
  EXPECT_TRUE(line.CheckChannelSecret("1656000001", Secret("s3cr/t&=+"), Soon()).ok());
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/oauth2/v3/token");
  EXPECT_EQ(requests[0].headers.at("content-type"), "application/x-www-form-urlencoded");
  EXPECT_EQ(requests[0].body,
            "grant_type=client_credentials&client_id=1656000001&client_secret=s3cr%2Ft%26%3D%2B");
}

TEST(CurlLineApiTest, AWrongPairIsUnauthenticatedWithLinesWordsAndRequestId) {
  ScriptedHttpServer server([](const Request&) {
    return Response{400,
                    R"({"error":"invalid_client","error_description":"invalid client_secret"})",
                    {{"X-Line-Request-Id", "req-123"}}};
  });
  CurlLineApi line = Client(server);
  const absl::Status status = line.CheckChannelSecret("1", Secret("wrong-secret"), Soon());
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("invalid_client: invalid client_secret"));
  EXPECT_THAT(status.message(), HasSubstr("req-123"));
  EXPECT_THAT(status.message(), Not(HasSubstr("wrong-secret")));
}

TEST(CurlLineApiTest, VerifiesATokenAndReadsItsChannel) {
  ScriptedHttpServer server([](const Request&) {
    return Response{200, R"({"scope":"P","client_id":"1656000001","expires_in":2591659})"};
  });
  CurlLineApi line = Client(server);
  auto info = line.VerifyAccessToken(Secret("tok"), Soon());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->client_id, "1656000001");
  EXPECT_EQ(info->expires_in_seconds, 2591659);
  EXPECT_EQ(server.requests()[0].body, "access_token=tok");
}

TEST(CurlLineApiTest, AnExpiredTokenIsUnauthenticated) {
  ScriptedHttpServer server([](const Request&) {
    return Response{400,
                    R"({"error":"invalid_request","error_description":"access token expired"})"};
  });
  CurlLineApi line = Client(server);
  auto info = line.VerifyAccessToken(Secret("tok"), Soon());
  EXPECT_TRUE(absl::IsUnauthenticated(info.status()));
  EXPECT_THAT(info.status().message(), HasSubstr("access token expired"));
}

TEST(CurlLineApiTest, GetsBotInfoWithABearerToken) {
  ScriptedHttpServer server([](const Request&) {
    return Response{200, R"({"userId":"Uabc","basicId":"@123abcde","premiumId":"@shop",
                             "displayName":"Shop \ud83d\ude00","pictureUrl":"https://x",
                             "chatMode":"chat","markAsReadMode":"manual"})"};
  });
  CurlLineApi line = Client(server);
  auto bot = line.GetBotInfo(Secret("the-token"), Soon());
  ASSERT_TRUE(bot.ok()) << bot.status();
  EXPECT_EQ(bot->user_id, "Uabc");
  EXPECT_EQ(bot->basic_id, "@123abcde");
  EXPECT_EQ(bot->premium_id, "@shop");
  EXPECT_EQ(bot->display_name, "Shop \xF0\x9F\x98\x80");
  EXPECT_EQ(bot->chat_mode, LineChatMode::kChat);
  EXPECT_EQ(bot->mark_as_read_mode, LineMarkAsReadMode::kManual);
  EXPECT_EQ(server.requests()[0].method, "GET");
  EXPECT_EQ(server.requests()[0].headers.at("authorization"), "Bearer the-token");
}

TEST(CurlLineApiTest, ReadsBothChatModesAndLeavesAnUnknownOneUnknown) {
  struct Case {
    std::string fields;
    LineChatMode chat;
    LineMarkAsReadMode read;
  } cases[] = {{R"(,"chatMode":"bot","markAsReadMode":"auto")", LineChatMode::kBot,
                LineMarkAsReadMode::kAuto},
               {R"(,"chatMode":"chat","markAsReadMode":"manual")", LineChatMode::kChat,
                LineMarkAsReadMode::kManual},
               {R"(,"chatMode":"hybrid","markAsReadMode":7)", LineChatMode::kUnknown,
                LineMarkAsReadMode::kUnknown},
               {"", LineChatMode::kUnknown, LineMarkAsReadMode::kUnknown}};
  for (const Case& c : cases) {
    ScriptedHttpServer server([&](const Request&) {
      return Response{200, R"({"userId":"Uabc","basicId":"@123abcde")" + c.fields + "}"};
    });
    CurlLineApi line = Client(server);
    auto bot = line.GetBotInfo(Secret("t"), Soon());
    ASSERT_TRUE(bot.ok()) << bot.status() << c.fields;
    EXPECT_EQ(bot->chat_mode, c.chat) << c.fields;
    EXPECT_EQ(bot->mark_as_read_mode, c.read) << c.fields;
  }
}

TEST(CurlLineApiTest, BotErrorsCarryMessageAndDetails) {
  ScriptedHttpServer server([](const Request&) {
    return Response{
        401,
        R"({"message":"Authentication failed.","details":[{"message":"bad","property":"token"}]})"};
  });
  CurlLineApi line = Client(server);
  auto bot = line.GetBotInfo(Secret("t"), Soon());
  EXPECT_TRUE(absl::IsUnauthenticated(bot.status()));
  EXPECT_THAT(bot.status().message(), HasSubstr("Authentication failed.; token: bad"));
}

TEST(CurlLineApiTest, MapsEveryOtherAnswer) {
  struct Case {
    int status;
    absl::StatusCode code;
  } cases[] = {
      {429, absl::StatusCode::kResourceExhausted}, {500, absl::StatusCode::kUnavailable},
      {503, absl::StatusCode::kUnavailable},       {403, absl::StatusCode::kPermissionDenied},
      {404, absl::StatusCode::kNotFound},          {400, absl::StatusCode::kInvalidArgument},
      {418, absl::StatusCode::kInvalidArgument}};
  for (const Case& c : cases) {
    ScriptedHttpServer server([&](const Request&) {
      return Response{c.status, R"({"message":"nope"})", {{"Retry-After", "30"}}};
    });
    CurlLineApi line = Client(server);
    EXPECT_EQ(line.GetBotInfo(Secret("t"), Soon()).status().code(), c.code) << c.status;
  }
}

TEST(CurlLineApiTest, ARateLimitSaysWhenToRetry) {
  ScriptedHttpServer server([](const Request&) {
    return Response{429, "{}", {{"Retry-After", "30"}}};
  });
  CurlLineApi line = Client(server);
  auto status = line.VerifyAccessToken(Secret("t"), Soon()).status();
  EXPECT_TRUE(absl::IsResourceExhausted(status));
  EXPECT_THAT(status.message(), HasSubstr("retry after 30 s"));
}

TEST(CurlLineApiTest, AnUnreadableSuccessIsUnavailable) {
  for (const std::string body : {"", "not json", "{}", R"({"userId":1})", "[1,2]"}) {
    ScriptedHttpServer server([&](const Request&) { return Response{200, body}; });
    CurlLineApi line = Client(server);
    EXPECT_TRUE(absl::IsUnavailable(line.GetBotInfo(Secret("t"), Soon()).status())) << body;
    EXPECT_TRUE(absl::IsUnavailable(line.VerifyAccessToken(Secret("t"), Soon()).status())) << body;
    EXPECT_TRUE(absl::IsUnavailable(line.CheckChannelSecret("1", Secret("s"), Soon()))) << body;
  }
}

TEST(CurlLineApiTest, ListsTheRichMenusMadeWithTheApi) {
  ScriptedHttpServer server([](const Request&) {
    return Response{200, R"({"richmenus":[
        {"richMenuId":"richmenu-a","size":{"width":2500,"height":1686},"selected":false,
         "name":"spring","chatBarText":"Menu","areas":[]},
        {"richMenuId":"richmenu-b","size":{"width":2500,"height":843},"selected":true,
         "name":"summer","chatBarText":"Tap","areas":[]}]})"};
  });
  CurlLineApi line = Client(server);
  auto menus = line.ListRichMenus(Secret("the-token"), Soon());
  ASSERT_TRUE(menus.ok()) << menus.status();
  ASSERT_EQ(menus->size(), 2u);
  EXPECT_EQ((*menus)[0].rich_menu_id, "richmenu-a");
  EXPECT_EQ((*menus)[0].name, "spring");
  EXPECT_EQ((*menus)[1].rich_menu_id, "richmenu-b");
  EXPECT_EQ(server.requests()[0].method, "GET");
  EXPECT_EQ(server.requests()[0].target, "/v2/bot/richmenu/list");
  EXPECT_EQ(server.requests()[0].headers.at("authorization"), "Bearer the-token");
}

TEST(CurlLineApiTest, NoRichMenusIsAnEmptyList) {
  ScriptedHttpServer server([](const Request&) { return Response{200, R"({"richmenus":[]})"}; });
  CurlLineApi line = Client(server);
  auto menus = line.ListRichMenus(Secret("t"), Soon());
  ASSERT_TRUE(menus.ok()) << menus.status();
  EXPECT_TRUE(menus->empty());
}

TEST(CurlLineApiTest, AnUnreadableRichMenuListIsUnavailable) {
  for (const std::string body : {"{}", R"({"richmenus":{}})", R"({"richmenus":[{"name":"x"}]})"}) {
    ScriptedHttpServer server([&](const Request&) { return Response{200, body}; });
    CurlLineApi line = Client(server);
    EXPECT_TRUE(absl::IsUnavailable(line.ListRichMenus(Secret("t"), Soon()).status())) << body;
  }
}

TEST(CurlLineApiTest, ReadsTheDefaultRichMenuAndNotFoundWhenNone) {
  std::atomic<bool> set{true};
  ScriptedHttpServer server([&](const Request&) {
    return set.load() ? Response{200, R"({"richMenuId":"richmenu-b"})"}
                      : Response{404, R"({"message":"no default richmenu","details":[]})"};
  });
  CurlLineApi line = Client(server);
  auto id = line.GetDefaultRichMenuId(Secret("the-token"), Soon());
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "richmenu-b");
  EXPECT_EQ(server.requests()[0].method, "GET");
  EXPECT_EQ(server.requests()[0].target, "/v2/bot/user/all/richmenu");
  EXPECT_EQ(server.requests()[0].headers.at("authorization"), "Bearer the-token");

  set.store(false);
  id = line.GetDefaultRichMenuId(Secret("the-token"), Soon());
  EXPECT_TRUE(absl::IsNotFound(id.status())) << id.status();
  EXPECT_THAT(id.status().message(), HasSubstr("no default richmenu"));
}

TEST(CurlLineApiTest, ARevokedTokenCannotReadRichMenus) {
  ScriptedHttpServer server([](const Request&) {
    return Response{401, R"({"message":"Authentication failed. Confirm that the access token in "
                             "the authorization header is valid."})"};
  });
  CurlLineApi line = Client(server);
  EXPECT_TRUE(absl::IsUnauthenticated(line.ListRichMenus(Secret("t"), Soon()).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(line.GetDefaultRichMenuId(Secret("t"), Soon()).status()));
}

TEST(CurlLineApiTest, ANumericClientIdIsAccepted) {
  ScriptedHttpServer server([](const Request&) {
    return Response{200, R"({"client_id":1656000001})"};
  });
  CurlLineApi line = Client(server);
  auto info = line.VerifyAccessToken(Secret("t"), Soon());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->client_id, "1656000001");
}

TEST(CurlLineApiTest, NoServerIsUnavailable) {
  int port;
  {
    ScriptedHttpServer closed([](const Request&) { return Response{}; });
    port = closed.port();
  }
  CurlLineApi line(
      {"http://127.0.0.1:" + std::to_string(port), absl::Seconds(2), absl::Seconds(1), ""});
  const absl::Status status = line.CheckChannelSecret("1", Secret("s"), Soon());
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("POST /oauth2/v3/token"));
}

TEST(CurlLineApiTest, ASlowLineTimesOutAtTheCallTimeout) {
  ScriptedHttpServer server([](const Request&) {
    return Response{200, "{}", {}, absl::Milliseconds(1500)};
  });
  CurlLineApi line({server.base_url(), absl::Milliseconds(200), absl::Seconds(1), ""});
  const absl::Status status = line.GetBotInfo(Secret("t"), Soon()).status();
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

TEST(CurlLineApiTest, TheCallersDeadlineBoundsTheCall) {
  ScriptedHttpServer server([](const Request&) {
    return Response{200, "{}", {}, absl::Milliseconds(1500)};
  });
  CurlLineApi line = Client(server);
  const absl::Status slow =
      line.GetBotInfo(Secret("t"), absl::Now() + absl::Milliseconds(200)).status();
  EXPECT_TRUE(absl::IsDeadlineExceeded(slow)) << slow;
  const absl::Status passed = line.GetBotInfo(Secret("t"), absl::Now() - absl::Seconds(1)).status();
  EXPECT_TRUE(absl::IsDeadlineExceeded(passed)) << passed;
}

TEST(CurlLineApiTest, ReusesConnections) {
  ScriptedHttpServer server([](const Request&) { return Response{200, R"({"client_id":"1"})"}; });
  CurlLineApi line = Client(server);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(line.VerifyAccessToken(Secret("t"), Soon()).ok());
  EXPECT_EQ(server.requests().size(), 5u);
  EXPECT_EQ(server.connections(), 1);
}

}  // namespace
}  // namespace linechannel::server
