// CurlLineApi's messaging calls against a scripted HTTP server: what goes on the wire, and how
// every answer LINE can give becomes a status and reason (line_messaging_api.h).

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "server/base/errors.h"
#include "server/line/curl_line_api.h"
#include "tests/support/scripted_http_server.h"

namespace linechannel::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScriptedHttpServer;
using Response = ScriptedHttpServer::Response;
using Request = ScriptedHttpServer::Request;

constexpr char kToken[] = "channel-token-SECRET";
constexpr char kMessages[] = R"([{"type":"text","text":"our words, never quoted"}])";
constexpr char kRetryKey[] = "123e4567-e89b-12d3-a456-426614174000";
constexpr char kUser[] = "U0123456789abcdef0123456789abcdef";

absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

CurlLineApi::Options OptionsFor(const std::string& base_url) {
  CurlLineApi::Options options;
  options.base_url = base_url;
  options.timeout = absl::Seconds(5);
  options.connect_timeout = absl::Seconds(2);
  return options;
}

std::string ReasonOf(const absl::Status& status) { return ErrorReason(status).value_or(""); }

// The RetryInfo delay of `status`; -1 s when it has none.
absl::Duration RetryDelayOf(const absl::Status& status) {
  const auto payload = status.GetPayload("type.googleapis.com/google.rpc.RetryInfo");
  if (!payload) return absl::Seconds(-1);
  google::rpc::RetryInfo retry;
  if (!retry.ParseFromString(std::string(*payload))) return absl::Seconds(-1);
  return absl::Seconds(retry.retry_delay().seconds()) +
         absl::Nanoseconds(retry.retry_delay().nanos());
}

// A port nothing listens on.
std::string ClosedBaseUrl() {
  ScriptedHttpServer closed([](const Request&) { return Response{}; });
  return closed.base_url();
}

// What a ContentSink saw.
struct Received {
  std::vector<LineContentHead> heads;
  std::string bytes;
  int chunks = 0;
  bool head_before_bytes = true;
};

LineMessagingApi::ContentSink SinkInto(Received& received) {
  return {[&received](const LineContentHead& head) {
            received.heads.push_back(head);
            return true;
          },
          [&received](absl::string_view chunk) {
            if (received.heads.empty()) received.head_before_bytes = false;
            received.bytes.append(chunk.data(), chunk.size());
            ++received.chunks;
            return true;
          }};
}

// `request` posts JSON to `target` with the channel's token, and carries `body`.
void ExpectJsonPost(const Request& request, const std::string& target, const std::string& body) {
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, target);
  EXPECT_EQ(request.headers.at("authorization"), absl::StrCat("Bearer ", kToken));
  EXPECT_EQ(request.headers.at("content-type"), "application/json");
  EXPECT_EQ(request.body, body);
}

TEST(CurlLineMessagingTest, RepliesWithTheTokenAndMessagesAsLineExpects) {
  ScriptedHttpServer server([](const Request&) {
    return Response{200,
                    R"({"sentMessages":[{"id":"461230966842064897","quoteToken":"q1"}]})",
                    {{"X-Line-Request-Id", "req-reply"}}};
  });
  CurlLineApi line(OptionsFor(server.base_url()));
  auto result = line.Reply(Secret(kToken), "reply-token-1", kMessages, true, Soon());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->request_id, "req-reply");
  EXPECT_FALSE(result->already_accepted);
  ASSERT_EQ(result->sent_messages.size(), 1u);
  EXPECT_EQ(result->sent_messages[0].id, "461230966842064897");
  EXPECT_EQ(result->sent_messages[0].quote_token, "q1");

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  ExpectJsonPost(requests[0], "/v2/bot/message/reply",
                 absl::StrCat(R"({"replyToken":"reply-token-1","messages":)", kMessages,
                              R"(,"notificationDisabled":true})"));
  EXPECT_EQ(requests[0].headers.count("x-line-retry-key"), 0u);
}

TEST(CurlLineMessagingTest, PushesWithARetryKey) {
  ScriptedHttpServer server([](const Request&) {
    return Response{200,
                    R"({"sentMessages":[{"id":"1"},{"id":"2","quoteToken":"q2"}]})",
                    {{"X-Line-Request-Id", "req-push"}}};
  });
  CurlLineApi line(OptionsFor(server.base_url()));
  auto result = line.Push(Secret(kToken), kUser, kMessages, false, kRetryKey, Soon());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->request_id, "req-push");
  EXPECT_FALSE(result->already_accepted);
  ASSERT_EQ(result->sent_messages.size(), 2u);
  EXPECT_EQ(result->sent_messages[0].quote_token, "");
  EXPECT_EQ(result->sent_messages[1].quote_token, "q2");

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  ExpectJsonPost(requests[0], "/v2/bot/message/push",
                 absl::StrCat(R"({"to":")", kUser, R"(","messages":)", kMessages,
                              R"(,"notificationDisabled":false})"));
  EXPECT_EQ(requests[0].headers.at("x-line-retry-key"), kRetryKey);
}

TEST(CurlLineMessagingTest, AnAlreadyAcceptedRetryKeyIsASuccess) {
  ScriptedHttpServer server([](const Request&) {
    return Response{
        409,
        R"({"message":"The retry key is already accepted",
                        "sentMessages":[{"id":"777","quoteToken":"q7"}]})",
        {{"X-Line-Request-Id", "req-second"}, {"x-line-accepted-request-id", "req-first"}}};
  });
  CurlLineApi line(OptionsFor(server.base_url()));
  auto result = line.Push(Secret(kToken), kUser, kMessages, false, kRetryKey, Soon());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->already_accepted);
  EXPECT_EQ(result->request_id, "req-first");
  ASSERT_EQ(result->sent_messages.size(), 1u);
  EXPECT_EQ(result->sent_messages[0].id, "777");
}

TEST(CurlLineMessagingTest, AnAlreadyAcceptedPushWithoutSentMessagesIsStillASuccess) {
  ScriptedHttpServer server([](const Request&) {
    return Response{409,
                    R"({"message":"The retry key is already accepted"})",
                    {{"X-Line-Accepted-Request-Id", "req-first"}}};
  });
  CurlLineApi line(OptionsFor(server.base_url()));
  auto result = line.Push(Secret(kToken), kUser, kMessages, false, kRetryKey, Soon());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->already_accepted);
  EXPECT_EQ(result->request_id, "req-first");
  EXPECT_TRUE(result->sent_messages.empty());
}

TEST(CurlLineMessagingTest, AConflictWithoutTheAcceptedRequestIsOfUnknownOutcome) {
  ScriptedHttpServer server([](const Request&) { return Response{409, R"({"message":"?"})"}; });
  CurlLineApi line(OptionsFor(server.base_url()));
  const absl::Status status =
      line.Push(Secret(kToken), kUser, kMessages, false, kRetryKey, Soon()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnknown) << status;
  EXPECT_EQ(ReasonOf(status), reason::kOutcomeUnknown);
}

TEST(CurlLineMessagingTest, APushNeedsAUsableRetryKey) {
  ScriptedHttpServer server([](const Request&) { return Response{200, "{}"}; });
  CurlLineApi line(OptionsFor(server.base_url()));
  for (const std::string key : {"", "abc\r\nX-Evil: 1", "not a uuid"}) {
    const absl::Status status =
        line.Push(Secret(kToken), kUser, kMessages, false, key, Soon()).status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  }
  EXPECT_TRUE(server.requests().empty());
}

// One error answer and what it must become.
struct ErrorCase {
  std::string name;
  std::string call;  // reply, push, profile, quota, mark, loading, content
  int status;
  std::string body;
  std::map<std::string, std::string> headers;
  absl::StatusCode code;
  std::string reason;
  std::string quoted;  // In the message; "" to skip.
};

absl::Status Call(CurlLineApi& line, const std::string& call) {
  const Secret token(kToken);
  if (call == "reply") return line.Reply(token, "rt", kMessages, false, Soon()).status();
  if (call == "push") return line.Push(token, kUser, kMessages, false, kRetryKey, Soon()).status();
  if (call == "profile") return line.GetProfile(token, kUser, "", Soon()).status();
  if (call == "quota") return line.GetQuota(token, Soon()).status();
  if (call == "mark") return line.MarkAsRead(token, "mark-token", Soon());
  if (call == "loading") return line.ShowLoadingAnimation(token, kUser, 10, Soon());
  Received received;
  const absl::Status status = line.GetContent(token, "m1", SinkInto(received), Soon());
  EXPECT_TRUE(received.heads.empty() && received.bytes.empty()) << "an error reached the sink";
  return status;
}

TEST(CurlLineMessagingTest, ClassifiesLinesErrorsByStatusAndMessage) {
  using Code = absl::StatusCode;
  const std::vector<ErrorCase> cases = {
      {"invalid reply token",
       "reply",
       400,
       R"j({"message":"Invalid reply token"})j",
       {},
       Code::kInvalidArgument,
       reason::kReplyTokenInvalid,
       "Invalid reply token"},
      {"invalid mark-as-read token",
       "mark",
       400,
       R"j({"message":"Invalid markAsReadToken"})j",
       {},
       Code::kInvalidArgument,
       reason::kMarkAsReadTokenInvalid,
       "Invalid markAsReadToken"},
      {"mark-as-read token missing",
       "mark",
       400,
       R"j({"message":"The request body has 1 error(s)",
           "details":[{"message":"must be specified","property":"markAsReadToken"}]})j",
       {},
       Code::kInvalidArgument,
       reason::kMarkAsReadTokenInvalid,
       "markAsReadToken"},
      {"push nobody can receive",
       "push",
       400,
       R"j({"message":"Failed to send messages","details":[{"message":"x","property":"to"}]})j",
       {},
       Code::kFailedPrecondition,
       reason::kRecipientUnavailable,
       "Failed to send messages"},
      {"push to a malformed id",
       "push",
       400,
       R"j({"message":"The property, 'to', in the request body is invalid (line: -, column: -)"})j",
       {},
       Code::kFailedPrecondition,
       reason::kRecipientUnavailable,
       "'to'"},
      {"push with a detail about to",
       "push",
       400,
       R"j({"message":"The request body has 1 error(s)",
           "details":[{"message":"Invalid user","property":"to"}]})j",
       {},
       Code::kFailedPrecondition,
       reason::kRecipientUnavailable,
       "to: Invalid user"},
      {"monthly limit",
       "push",
       429,
       R"j({"message":"You have reached your monthly limit."})j",
       {},
       Code::kFailedPrecondition,
       reason::kMonthlyQuotaExhausted,
       "monthly limit"},
      {"rate limit",
       "push",
       429,
       R"j({"message":"The API rate limit has been exceeded. Try again later."})j",
       {{"Retry-After", "7"}},
       Code::kResourceExhausted,
       reason::kLineRateLimited,
       "retry after 7 s"},
      {"token rejected",
       "reply",
       401,
       R"j({"message":"Authentication failed"})j",
       {},
       Code::kUnauthenticated,
       reason::kTokenRejected,
       "Authentication failed"},
      {"plan refuses",
       "loading",
       403,
       R"j({"message":"Access to this API is not available"})j",
       {},
       Code::kPermissionDenied,
       reason::kLineRefusedRequest,
       "not available"},
      {"bad message",
       "reply",
       400,
       R"j({"message":"The request body has 2 error(s)",
           "details":[{"message":"Length must be between 0 and 5000","property":"messages[0].text"},
                      {"message":"second detail","property":"messages[1].type"}]})j",
       {},
       Code::kInvalidArgument,
       reason::kLineRefusedRequest,
       "The request body has 2 error(s); messages[0].text: Length must be between 0 and 5000"},
      {"push other 400",
       "push",
       400,
       R"j({"message":"The value of the X-Line-Retry-Key header is invalid"})j",
       {},
       Code::kInvalidArgument,
       reason::kLineRefusedRequest,
       "X-Line-Retry-Key"},
      {"bad loading seconds",
       "loading",
       400,
       R"j({"message":"The request body has 1 error(s)",
           "details":[{"message":"invalid","property":"loadingSeconds"}]})j",
       {},
       Code::kInvalidArgument,
       reason::kLineRefusedRequest,
       "loadingSeconds: invalid"},
      {"no profile",
       "profile",
       404,
       R"j({"message":"Not found"})j",
       {},
       Code::kNotFound,
       reason::kProfileNotFound,
       "Not found"},
      {"no content",
       "content",
       404,
       R"j({"message":"Not found"})j",
       {},
       Code::kNotFound,
       reason::kContentNotFound,
       "Not found"},
      {"push 500",
       "push",
       500,
       R"j({"message":"Internal server error"})j",
       {},
       Code::kUnknown,
       reason::kOutcomeUnknown,
       "HTTP 500"},
      {"reply 503",
       "reply",
       503,
       "<html>busy</html>",
       {},
       Code::kUnknown,
       reason::kOutcomeUnknown,
       "HTTP 503"},
      {"quota 502", "quota", 502, "", {}, Code::kUnknown, reason::kOutcomeUnknown, "HTTP 502"},
      {"content 500",
       "content",
       500,
       R"j({"message":"oops"})j",
       {},
       Code::kUnknown,
       reason::kOutcomeUnknown,
       "HTTP 500"},
      {"reply unreadable",
       "reply",
       200,
       "not json",
       {},
       Code::kUnknown,
       reason::kOutcomeUnknown,
       "cannot read"},
      {"profile unreadable",
       "profile",
       200,
       R"j({"userId":"U1"})j",
       {},
       Code::kUnknown,
       reason::kOutcomeUnknown,
       "cannot read"},
      {"quota unreadable",
       "quota",
       200,
       R"j({"type":"sometimes"})j",
       {},
       Code::kUnknown,
       reason::kOutcomeUnknown,
       "cannot read"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.name);
    ScriptedHttpServer server([&](const Request&) {
      Response response{c.status, c.body, c.headers};
      response.headers["X-Line-Request-Id"] = "req-" + std::to_string(c.status);
      return response;
    });
    CurlLineApi line(OptionsFor(server.base_url()));
    const absl::Status status = Call(line, c.call);
    EXPECT_EQ(status.code(), c.code) << status;
    EXPECT_EQ(ReasonOf(status), c.reason) << status;
    EXPECT_THAT(status.message(), HasSubstr(c.quoted));
    EXPECT_THAT(status.message(), HasSubstr(absl::StrCat("X-Line-Request-Id: req-", c.status)));
    EXPECT_THAT(status.message(), Not(HasSubstr(kToken)));
    EXPECT_THAT(status.message(), Not(HasSubstr("our words")));
    EXPECT_THAT(status.message(), Not(HasSubstr("second detail")));
  }
}

TEST(CurlLineMessagingTest, ARateLimitCarriesLinesRetryAfterOrOneSecond) {
  struct Case {
    std::string retry_after;
    absl::Duration expected;
  };
  for (const Case& c : std::vector<Case>{
           {"7", absl::Seconds(7)}, {"", absl::Seconds(1)}, {"soon", absl::Seconds(1)}}) {
    ScriptedHttpServer server([&c](const Request&) {
      Response response{429, R"({"message":"The API rate limit has been exceeded."})"};
      if (!c.retry_after.empty()) response.headers["Retry-After"] = c.retry_after;
      return response;
    });
    CurlLineApi line(OptionsFor(server.base_url()));
    const absl::Status status =
        line.Push(Secret(kToken), kUser, kMessages, false, kRetryKey, Soon()).status();
    EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
    EXPECT_EQ(RetryDelayOf(status), c.expected) << c.retry_after;
  }
}

TEST(CurlLineMessagingTest, AnUnreachableLineIsUnavailable) {
  CurlLineApi line(OptionsFor(ClosedBaseUrl()));
  for (const std::string call :
       {"reply", "push", "profile", "quota", "mark", "loading", "content"}) {
    const absl::Status status = Call(line, call);
    EXPECT_TRUE(absl::IsUnavailable(status)) << call << ": " << status;
    EXPECT_EQ(ReasonOf(status), reason::kLineUnavailable) << call;
    EXPECT_THAT(status.message(), Not(HasSubstr(kToken)));
  }
  CurlLineApi::Options unresolvable = OptionsFor("http://no-such-host.invalid");
  CurlLineApi nowhere(unresolvable);
  EXPECT_EQ(ReasonOf(Call(nowhere, "push")), reason::kLineUnavailable);
}

TEST(CurlLineMessagingTest, NoAnswerAfterSendingIsOfUnknownOutcome) {
  ScriptedHttpServer server([](const Request&) {
    return Response{200, "{}", {{"X-Line-Request-Id", "late"}}, absl::Milliseconds(1500)};
  });
  CurlLineApi line(OptionsFor(server.base_url()));
  const absl::Status status = line.Push(Secret(kToken), kUser, kMessages, false, kRetryKey,
                                        absl::Now() + absl::Milliseconds(300))
                                  .status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnknown) << status;
  EXPECT_EQ(ReasonOf(status), reason::kOutcomeUnknown);
  EXPECT_THAT(status.message(), HasSubstr("may have acted"));

  CurlLineApi::Options short_timeout = OptionsFor(server.base_url());
  short_timeout.timeout = absl::Milliseconds(300);
  CurlLineApi impatient(short_timeout);
  const absl::Status timed_out =
      impatient.Reply(Secret(kToken), "rt", kMessages, false, Soon()).status();
  EXPECT_EQ(ReasonOf(timed_out), reason::kOutcomeUnknown) << timed_out;
}

TEST(CurlLineMessagingTest, APassedDeadlineSendsNothing) {
  ScriptedHttpServer server([](const Request&) { return Response{200, "{}"}; });
  CurlLineApi line(OptionsFor(server.base_url()));
  const absl::Status status =
      line.Push(Secret(kToken), kUser, kMessages, false, kRetryKey, absl::Now() - absl::Seconds(1))
          .status();
  EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
  EXPECT_TRUE(server.requests().empty());
}

TEST(CurlLineMessagingTest, GetsAProfileByUserGroupOrRoomWithEscapedPaths) {
  ScriptedHttpServer server([](const Request&) {
    return Response{200, R"({"userId":"Uabc","displayName":"Brown \ud83d\udc3b",
                             "pictureUrl":"https://p","statusMessage":"hi","language":"ja"})"};
  });
  CurlLineApi line(OptionsFor(server.base_url()));
  auto profile = line.GetProfile(Secret(kToken), "Uabc", "", Soon());
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_EQ(profile->user_id, "Uabc");
  EXPECT_EQ(profile->display_name, "Brown \xF0\x9F\x90\xBB");
  EXPECT_EQ(profile->picture_url, "https://p");
  EXPECT_EQ(profile->status_message, "hi");
  EXPECT_EQ(profile->language, "ja");
  ASSERT_TRUE(line.GetProfile(Secret(kToken), "Uabc", "Cgroup1", Soon()).ok());
  ASSERT_TRUE(line.GetProfile(Secret(kToken), "U a/b?c", "Rroom#1", Soon()).ok());
  EXPECT_TRUE(
      absl::IsInvalidArgument(line.GetProfile(Secret(kToken), "Uabc", "Xother", Soon()).status()));

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/v2/bot/profile/Uabc");
  EXPECT_EQ(requests[0].headers.at("authorization"), absl::StrCat("Bearer ", kToken));
  EXPECT_EQ(requests[1].target, "/v2/bot/group/Cgroup1/member/Uabc");
  EXPECT_EQ(requests[2].target, "/v2/bot/room/Rroom%231/member/U%20a%2Fb%3Fc");
}

TEST(CurlLineMessagingTest, GetsTheQuotaAndItsConsumption) {
  ScriptedHttpServer server([](const Request& request) {
    if (request.target == "/v2/bot/message/quota") {
      return Response{200, R"({"type":"limited","value":1000})"};
    }
    return Response{200, R"({"totalUsage":42})"};
  });
  CurlLineApi line(OptionsFor(server.base_url()));
  auto quota = line.GetQuota(Secret(kToken), Soon());
  ASSERT_TRUE(quota.ok()) << quota.status();
  EXPECT_TRUE(quota->limited);
  EXPECT_EQ(quota->limit, 1000);
  EXPECT_EQ(quota->used, 42);
  std::vector<std::string> targets;
  for (const Request& request : server.requests()) {
    EXPECT_EQ(request.method, "GET");
    EXPECT_EQ(request.headers.at("authorization"), absl::StrCat("Bearer ", kToken));
    targets.push_back(request.target);
  }
  EXPECT_THAT(targets, ElementsAre("/v2/bot/message/quota", "/v2/bot/message/quota/consumption"));
}

TEST(CurlLineMessagingTest, NoQuotaTypeMeansUnlimited) {
  ScriptedHttpServer server([](const Request& request) {
    if (request.target == "/v2/bot/message/quota") return Response{200, R"({"type":"none"})"};
    return Response{200, R"({"totalUsage":0})"};
  });
  CurlLineApi line(OptionsFor(server.base_url()));
  auto quota = line.GetQuota(Secret(kToken), Soon());
  ASSERT_TRUE(quota.ok()) << quota.status();
  EXPECT_FALSE(quota->limited);
}

TEST(CurlLineMessagingTest, MarksAsReadAndShowsTheLoadingAnimation) {
  ScriptedHttpServer server([](const Request& request) {
    return Response{request.target == "/v2/bot/chat/loading/start" ? 202 : 200, "{}"};
  });
  CurlLineApi line(OptionsFor(server.base_url()));
  EXPECT_TRUE(line.MarkAsRead(Secret(kToken), "mark-token-1", Soon()).ok());
  EXPECT_TRUE(line.ShowLoadingAnimation(Secret(kToken), kUser, 20, Soon()).ok());
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  ExpectJsonPost(requests[0], "/v2/bot/chat/markAsRead", R"({"markAsReadToken":"mark-token-1"})");
  ExpectJsonPost(requests[1], "/v2/bot/chat/loading/start",
                 absl::StrCat(R"({"chatId":")", kUser, R"(","loadingSeconds":20})"));
}

TEST(CurlLineMessagingTest, StreamsContentFromTheDataHostIntoTheSink) {
  std::string content(300 * 1024, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 % 251);
  ScriptedHttpServer data([&](const Request&) {
    return Response{200, content, {{"Content-Type", "image/jpeg"}}};
  });
  CurlLineApi::Options options = OptionsFor(ClosedBaseUrl());
  options.data_base_url = data.base_url();
  CurlLineApi line(options);
  Received received;
  ASSERT_TRUE(line.GetContent(Secret(kToken), "4610/x", SinkInto(received), Soon()).ok());
  ASSERT_EQ(received.heads.size(), 1u);
  EXPECT_TRUE(received.head_before_bytes);
  EXPECT_EQ(received.heads[0].content_type, "image/jpeg");
  EXPECT_EQ(received.heads[0].size, static_cast<int64_t>(content.size()));
  EXPECT_GT(received.chunks, 1);
  EXPECT_TRUE(received.bytes == content);
  const auto requests = data.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/v2/bot/message/4610%2Fx/content");
  EXPECT_EQ(requests[0].headers.at("authorization"), absl::StrCat("Bearer ", kToken));
}

TEST(CurlLineMessagingTest, AnEmptyContentStillGetsItsHead) {
  ScriptedHttpServer server([](const Request&) {
    return Response{200, "", {{"Content-Type", "application/octet-stream"}}};
  });
  CurlLineApi line(OptionsFor(server.base_url()));
  Received received;
  ASSERT_TRUE(line.GetContent(Secret(kToken), "m1", SinkInto(received), Soon()).ok());
  ASSERT_EQ(received.heads.size(), 1u);
  EXPECT_EQ(received.heads[0].size, 0);
  EXPECT_EQ(received.chunks, 0);
}

TEST(CurlLineMessagingTest, ContentStillProcessingIsNotReadyForFiveSeconds) {
  ScriptedHttpServer server([](const Request&) {
    return Response{202, "", {{"X-Line-Request-Id", "req-202"}}};
  });
  CurlLineApi line(OptionsFor(server.base_url()));
  Received received;
  const absl::Status status = line.GetContent(Secret(kToken), "m1", SinkInto(received), Soon());
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_EQ(ReasonOf(status), reason::kContentNotReady);
  EXPECT_EQ(RetryDelayOf(status), absl::Seconds(5));
  EXPECT_THAT(status.message(), HasSubstr("req-202"));
  EXPECT_TRUE(received.heads.empty());
  EXPECT_TRUE(received.bytes.empty());
}

TEST(CurlLineMessagingTest, ASinkThatStopsCancelsTheDownload) {
  const std::string content(256 * 1024, 'x');
  ScriptedHttpServer server([&](const Request&) { return Response{200, content}; });
  CurlLineApi line(OptionsFor(server.base_url()));

  int chunks = 0;
  LineMessagingApi::ContentSink stop_at_first{[](const LineContentHead&) { return true; },
                                              [&chunks](absl::string_view) {
                                                ++chunks;
                                                return false;
                                              }};
  const absl::Status stopped = line.GetContent(Secret(kToken), "m1", stop_at_first, Soon());
  EXPECT_TRUE(absl::IsCancelled(stopped)) << stopped;
  EXPECT_EQ(chunks, 1);

  LineMessagingApi::ContentSink refuse_head{[](const LineContentHead&) { return false; },
                                            [&chunks](absl::string_view) {
                                              ++chunks;
                                              return true;
                                            }};
  const absl::Status refused = line.GetContent(Secret(kToken), "m1", refuse_head, Soon());
  EXPECT_TRUE(absl::IsCancelled(refused)) << refused;
  EXPECT_EQ(chunks, 1);
}

TEST(CurlLineMessagingTest, AContentDownloadMayTakeLongerThanOneCallsTimeout) {
  ScriptedHttpServer server([](const Request&) {
    return Response{200, "bytes", {{"Content-Type", "video/mp4"}}, absl::Milliseconds(800)};
  });
  CurlLineApi::Options options = OptionsFor(server.base_url());
  options.timeout = absl::Milliseconds(300);
  CurlLineApi line(options);
  Received received;
  const absl::Status status = line.GetContent(Secret(kToken), "m1", SinkInto(received), Soon());
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(received.bytes, "bytes");
  // The deadline still bounds it.
  const absl::Status late = line.GetContent(Secret(kToken), "m1", SinkInto(received),
                                            absl::Now() + absl::Milliseconds(300));
  EXPECT_EQ(ReasonOf(late), reason::kOutcomeUnknown) << late;
}

TEST(CurlLineMessagingTest, ManagementCallsKeepTheirStatusesOnTheSharedExchange) {
  ScriptedHttpServer server([](const Request&) {
    return Response{503, R"({"message":"busy"})", {{"X-Line-Request-Id", "req-m"}}};
  });
  CurlLineApi line(OptionsFor(server.base_url()));
  const absl::Status status = line.GetBotInfo(Secret(kToken), Soon()).status();
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_FALSE(ErrorReason(status).has_value());
}

}  // namespace
}  // namespace linechannel::server
