// Rate limits and scripted faults on LINE's outbound calls: what a client that retries must
// survive, driven through the control API.
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/tools/messaging_test_base.h"

namespace linechannel::testing {
namespace {

constexpr char kKey[] = "0f8fad5b-d9cb-469f-a165-70867728950e";
constexpr char kRateLimited[] = "The API rate limit has been exceeded. Try again later.";

class OutboundFaultsTest : public MessagingTest {
 protected:
  // A keyed push of "once" to `user` on `connection`, which the test gives its own socket
  // (the shared client would resend on a dropped kept-alive connection).
  absl::StatusOr<HttpReply> KeyedPushOn(TestHttpClient& connection, const std::string& user) {
    std::map<std::string, std::string> headers = Bearer(kTokenA);
    headers["X-Line-Retry-Key"] = kKey;
    return connection.Call(
        "POST", "/v2/bot/message/push",
        absl::StrCat(R"({"to": ")", user, R"(", "messages": )", Text("once"), "}"), headers);
  }
};

TEST_F(OutboundFaultsTest, PerChannelRateLimitOnTheFakeClock) {
  FreezeClock();
  SetMessaging(R"({"rate_limit_per_second": 3})");
  const std::string user = NewUser();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Push(kTokenA, user, Text("x")).status, 200) << i;
  HttpReply limited = Push(kTokenA, user, Text("x"));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(JsonView(limited.body).Str("/message"), kRateLimited);
  // Replies share the window; other channels do not.
  EXPECT_EQ(Reply(kTokenA, Generate().reply_token, Text("x")).status, 429);
  EXPECT_EQ(Push(kTokenB, NewUser(kChannelB), Text("x")).status, 200);
  AdvanceClock(1);
  EXPECT_EQ(Push(kTokenA, user, Text("x")).status, 200);
  EXPECT_EQ(Sent().Size("/sent"), 4u);
}

TEST_F(OutboundFaultsTest, Injected429CarriesRetryAfterAndSendsNothing) {
  AddFault(R"({"endpoint": "push", "fault": "429", "count": 2, "retry_after": 7})");
  JsonView pending(client().Get(absl::StrCat("/fake/channels/", kChannelA, "/faults")).body);
  EXPECT_EQ(pending.Str("/pending/0/fault"), "429");
  EXPECT_EQ(pending.Int("/pending/0/remaining"), 2);
  const std::string user = NewUser();
  for (int i = 0; i < 2; ++i) {
    HttpReply storm = Push(kTokenA, user, Text("x"), kKey);
    EXPECT_EQ(storm.status, 429);
    EXPECT_EQ(storm.Header("retry-after"), "7");
    EXPECT_EQ(JsonView(storm.body).Str("/message"), kRateLimited);
  }
  EXPECT_EQ(Sent().Size("/sent"), 0u);
  EXPECT_EQ(Push(kTokenA, user, Text("x"), kKey).status, 200);
  EXPECT_EQ(Sent().Size("/sent"), 1u);
}

TEST_F(OutboundFaultsTest, Injected5xxBeforeAcceptanceLeavesTheKeyFree) {
  AddFault(R"({"endpoint": "push", "fault": "500"})");
  AddFault(R"({"endpoint": "push", "fault": "503"})");
  const std::string user = NewUser();
  HttpReply first = Push(kTokenA, user, Text("x"), kKey);
  EXPECT_EQ(first.status, 500);
  EXPECT_TRUE(JsonView(first.body).IsString("/message"));
  EXPECT_EQ(Push(kTokenA, user, Text("x"), kKey).status, 503);
  EXPECT_EQ(Sent().Size("/sent"), 0u);
  // LINE accepted neither, so the same key goes through once.
  EXPECT_EQ(Push(kTokenA, user, Text("x"), kKey).status, 200);
  EXPECT_EQ(Push(kTokenA, user, Text("x"), kKey).status, 409);
  EXPECT_EQ(Sent().Size("/sent"), 1u);
  EXPECT_EQ(JsonView(client().Get(absl::StrCat("/fake/channels/", kChannelA, "/faults")).body)
                .Size("/pending"),
            0u);
}

TEST_F(OutboundFaultsTest, AcceptedButThe500AnswerWasLost) {
  AddFault(R"({"endpoint": "push", "fault": "500", "after_accept": true})");
  const std::string user = NewUser();
  HttpReply lost = Push(kTokenA, user, Text("once"), kKey);
  EXPECT_EQ(lost.status, 500);
  JsonView sent = Sent();
  ASSERT_EQ(sent.Size("/sent"), 1u);
  const std::string accepted_id = sent.Str("/sent/0/request_id");
  EXPECT_EQ(lost.Header("x-line-request-id"), accepted_id);

  HttpReply retry = Push(kTokenA, user, Text("once"), kKey);
  EXPECT_EQ(retry.status, 409);
  EXPECT_EQ(retry.Header("x-line-accepted-request-id"), accepted_id);
  EXPECT_EQ(Sent().Size("/sent"), 1u);
}

TEST_F(OutboundFaultsTest, AcceptedButTheConnectionWasDropped) {
  AddFault(R"({"endpoint": "push", "fault": "drop", "after_accept": true})");
  const std::string user = NewUser();
  TestHttpClient fresh(fake().port());
  absl::StatusOr<HttpReply> dropped = KeyedPushOn(fresh, user);
  EXPECT_FALSE(dropped.ok());
  ASSERT_EQ(Sent().Size("/sent"), 1u);
  HttpReply retry = Push(kTokenA, user, Text("once"), kKey);
  EXPECT_EQ(retry.status, 409);
  EXPECT_EQ(retry.Header("x-line-accepted-request-id"), Sent().Str("/sent/0/request_id"));
}

TEST_F(OutboundFaultsTest, TimeoutHoldsTheAnswerPastTheClientsTimeout) {
  AddFault(R"({"endpoint": "push", "fault": "timeout", "after_accept": true})");
  const std::string user = NewUser();
  TestHttpClient impatient(fake().port());
  impatient.set_timeout(absl::Milliseconds(200));
  absl::StatusOr<HttpReply> timed_out = KeyedPushOn(impatient, user);
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.status().code(), absl::StatusCode::kDeadlineExceeded);
  // The held call is released once it is known to be held: it had been accepted.
  HttpReply released = client().PostJson("/fake/faults/release", R"({"wait_for": 1})");
  ASSERT_EQ(released.status, 200) << released.body;
  EXPECT_EQ(JsonView(released.body).Int("/released"), 1);
  EXPECT_EQ(Sent().Size("/sent"), 1u);
  EXPECT_EQ(Push(kTokenA, user, Text("once"), kKey).status, 409);
}

TEST_F(OutboundFaultsTest, TimeoutBeforeAcceptanceClosesWithoutAnswerAndSendsNothing) {
  AddFault(R"({"endpoint": "push", "fault": "timeout"})");
  const std::string user = NewUser();
  absl::StatusOr<HttpReply> held;
  std::thread caller([&] {
    TestHttpClient patient(fake().port());
    held = patient.Call("POST", "/v2/bot/message/push",
                        absl::StrCat(R"({"to": ")", user, R"(", "messages": )", Text("x"), "}"),
                        Bearer(kTokenA));
  });
  HttpReply released = client().PostJson("/fake/faults/release", R"({"wait_for": 1})");
  caller.join();
  EXPECT_EQ(JsonView(released.body).Int("/released"), 1) << released.body;
  EXPECT_FALSE(held.ok());  // Closed, never answered.
  EXPECT_EQ(Sent().Size("/sent"), 0u);
}

TEST_F(OutboundFaultsTest, FaultsHitOnlyTheirEndpointAndChannel) {
  AddFault(R"({"endpoint": "profile", "fault": "503", "count": 1})");
  const std::string user = NewUser();
  EXPECT_EQ(Push(kTokenA, user, Text("x")).status, 200);
  EXPECT_EQ(client().Get("/v2/bot/profile/" + NewUser(kChannelB), Bearer(kTokenB)).status, 200);
  EXPECT_EQ(client().Get("/v2/bot/profile/" + user, Bearer(kTokenA)).status, 503);
  EXPECT_EQ(client().Get("/v2/bot/profile/" + user, Bearer(kTokenA)).status, 200);

  AddFault(R"({"endpoint": "reply", "fault": "500", "count": 5})");
  ASSERT_EQ(client().Delete(absl::StrCat("/fake/channels/", kChannelA, "/faults")).status, 200);
  EXPECT_EQ(Reply(kTokenA, Generate().reply_token, Text("x")).status, 200);
}

TEST_F(OutboundFaultsTest, RejectsBadFaults) {
  const std::string path = absl::StrCat("/fake/channels/", kChannelA, "/faults");
  EXPECT_EQ(client().PostJson(path, R"({"endpoint": "bot_info", "fault": "500"})").status, 400);
  EXPECT_EQ(client().PostJson(path, R"({"endpoint": "push", "fault": "418"})").status, 400);
  EXPECT_EQ(client()
                .PostJson(path, R"({"endpoint": "push", "fault": "429",
                                        "after_accept": true})")
                .status,
            400);
  EXPECT_EQ(client().PostJson(path, R"({"endpoint": "push", "fault": "500", "count": 0})").status,
            400);
  EXPECT_EQ(client().PostJson(path, R"({"endpoint": "push", "fault": "500", "x": 1})").status, 400);
  EXPECT_EQ(client().PostJson("/fake/channels/1656999999/faults", "{}").status, 404);
}

}  // namespace
}  // namespace linechannel::testing
