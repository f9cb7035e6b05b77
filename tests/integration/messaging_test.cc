// Outbound messaging end to end: the real channeld answering customers through a bound OA of
// the fake LINE platform, over real gRPC and HTTP. What the fake's `sent` log shows is what a
// customer would have received.
#include <signal.h>
#include <stdlib.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/support/json_field.h"

namespace linechannel::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTeam[] = "team-a";

// What one generated webhook event gave the customer's side.
struct CustomerMessage {
  std::string user_id;
  std::string reply_token;
  std::string message_id;
  std::string mark_as_read_token;
};

class MessagingTest : public ServiceTest {
 protected:
  std::vector<std::string> Flags() override {
    // Short enough that a killed process's push is taken over within the test.
    return {"--line_timeout=2s", "--push_lease=4s"};
  }

  void SetUp() override {
    ServiceTest::SetUp();
    if (HasFatalFailure()) return;
    const std::string url = BindForWebhooks(*channeld_, Channel1(), kTeam);
    ASSERT_FALSE(url.empty());
    auto patched = line_->Control("PATCH", ChannelPath(),
                                  absl::StrCat(R"({"webhook_endpoint":")", url, R"("})"));
    ASSERT_TRUE(patched.ok() && patched->status == 200);
  }

  static std::string ChannelPath() { return "/fake/channels/" + Channel1().channel_id; }

  // Makes a customer send the OA a message (`generate` options as JSON members).
  CustomerMessage CustomerSends(const std::string& generate = "") {
    auto sent = line_->Control(
        "POST", ChannelPath() + "/webhooks",
        absl::StrCat(R"({"generate":{"count":1)", generate.empty() ? "" : ",", generate, "}}"));
    EXPECT_TRUE(sent.ok() && sent->status == 200) << (sent.ok() ? sent->body : "");
    if (!sent.ok()) return {};
    EXPECT_EQ(JsonField(sent->body, "/status"), "200") << sent->body;
    return {JsonField(sent->body, "/events/0/user_id"),
            JsonField(sent->body, "/events/0/reply_token"),
            JsonField(sent->body, "/events/0/message_id"),
            JsonField(sent->body, "/events/0/mark_as_read_token")};
  }

  // The fake's log of what the channel sent.
  std::string Sent() {
    auto sent = line_->Control("GET", ChannelPath() + "/sent");
    EXPECT_TRUE(sent.ok() && sent->status == 200);
    return sent.ok() ? sent->body : "";
  }
  int SentCount() {
    const std::string sent = JsonField(Sent(), "/sent");
    int count = 0;
    for (size_t at = sent.find("\"kind\""); at != std::string::npos;
         at = sent.find("\"kind\"", at + 1)) {
      ++count;
    }
    return count;
  }

  void Fault(const std::string& json) {
    auto queued = line_->Control("POST", ChannelPath() + "/faults", json);
    ASSERT_TRUE(queued.ok() && queued->status == 200) << (queued.ok() ? queued->body : "");
  }

  v1::PushMessageRequest PushRequest(const std::string& to, const std::string& request_id,
                                     const std::string& text = "Your order has shipped") {
    v1::PushMessageRequest request;
    request.set_team_id(kTeam);
    request.set_channel_id(Channel1().channel_id);
    request.set_to(to);
    request.set_request_id(request_id);
    request.add_messages(absl::StrCat(R"({"type":"text","text":")", text, R"("})"));
    return request;
  }

  grpc::Status Push(const v1::PushMessageRequest& request, v1::PushMessageResponse* response,
                    absl::Duration timeout = absl::Seconds(30)) {
    return channeld_->stub().PushMessage(Context(timeout).get(), request, response);
  }

  v1::Push GetPush(const std::string& request_id) {
    v1::GetPushRequest request;
    request.set_team_id(kTeam);
    request.set_channel_id(Channel1().channel_id);
    request.set_request_id(request_id);
    v1::Push push;
    const grpc::Status status = channeld_->stub().GetPush(Context().get(), request, &push);
    EXPECT_TRUE(status.ok()) << Answer(status) << " " << status.error_message();
    return push;
  }

  // GetPush until the push leaves PENDING, for at most `limit`.
  v1::Push AwaitPushEnd(const std::string& request_id, absl::Duration limit = absl::Seconds(60)) {
    const absl::Time deadline = absl::Now() + limit;
    v1::Push push = GetPush(request_id);
    while (push.state() == v1::PENDING && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
      push = GetPush(request_id);
    }
    return push;
  }

  grpc::Status Reply(const std::string& reply_token, v1::ReplyMessageResponse* response,
                     const std::string& text = "Thanks! An agent will answer shortly.") {
    v1::ReplyMessageRequest request;
    request.set_team_id(kTeam);
    request.set_channel_id(Channel1().channel_id);
    request.set_reply_token(reply_token);
    request.add_messages(absl::StrCat(R"({"type":"text","text":")", text, R"("})"));
    return channeld_->stub().ReplyMessage(Context().get(), request, response);
  }

  // The whole content of a message through GetMessageContent: chunks, type and size.
  struct Download {
    grpc::Status status;
    std::string content_type;
    int64_t size = -1;
    int64_t bytes = 0;
    int chunks = 0;
    std::string first_bytes;
  };
  Download GetContent(const std::string& message_id) {
    v1::GetMessageContentRequest request;
    request.set_team_id(kTeam);
    request.set_channel_id(Channel1().channel_id);
    request.set_message_id(message_id);
    auto context = Context(absl::Seconds(120));
    auto reader = channeld_->stub().GetMessageContent(context.get(), request);
    Download download;
    v1::MessageContentChunk chunk;
    while (reader->Read(&chunk)) {
      if (download.chunks++ == 0) {
        download.content_type = chunk.content_type();
        download.size = chunk.size();
      }
      if (download.first_bytes.size() < 8) {
        download.first_bytes += chunk.data().substr(0, 8 - download.first_bytes.size());
      }
      download.bytes += static_cast<int64_t>(chunk.data().size());
    }
    download.status = reader->Finish();
    return download;
  }
};

TEST_F(MessagingTest, ACustomersMessageArrivesAndTheAgentsReplyGoesOut) {
  const CustomerMessage customer = CustomerSends();
  ASSERT_FALSE(customer.reply_token.empty());
  // The event as internal services see it carries the reply token.
  std::vector<v1::Event> events = ListAllEvents(channeld_->stub(), kTeam);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_THAT(events[0].raw_json(), HasSubstr(customer.reply_token));

  v1::ReplyMessageResponse reply;
  const grpc::Status status = Reply(customer.reply_token, &reply);
  ASSERT_TRUE(status.ok()) << Answer(status) << " " << status.error_message();
  ASSERT_EQ(reply.sent_messages_size(), 1);
  EXPECT_FALSE(reply.sent_messages(0).id().empty());
  EXPECT_FALSE(reply.line_request_id().empty());

  const std::string sent = Sent();
  EXPECT_EQ(JsonField(sent, "/sent/0/kind"), "reply");
  EXPECT_EQ(JsonField(sent, "/sent/0/to"), customer.user_id);
  EXPECT_THAT(JsonField(sent, "/sent/0/messages"), HasSubstr("An agent will answer shortly"));

  // A reply token is single-use: the second reply is refused, and nothing more is sent.
  const grpc::Status again = Reply(customer.reply_token, &reply);
  EXPECT_EQ(Answer(again), "INVALID_ARGUMENT/REPLY_TOKEN_INVALID") << again.error_message();
  EXPECT_EQ(SentCount(), 1);
}

TEST_F(MessagingTest, AnExpiredReplyTokenIsRefusedAndNothingIsSent) {
  ASSERT_TRUE(line_->Control("POST", "/fake/clock/freeze", R"({"frozen":true})").ok());
  const CustomerMessage customer = CustomerSends();
  ASSERT_TRUE(line_->Control("POST", "/fake/clock/advance", R"({"seconds":61})").ok());
  v1::ReplyMessageResponse reply;
  const grpc::Status status = Reply(customer.reply_token, &reply);
  EXPECT_EQ(Answer(status), "INVALID_ARGUMENT/REPLY_TOKEN_INVALID");
  EXPECT_THAT(status.error_message(), HasSubstr("Invalid reply token"));
  EXPECT_EQ(SentCount(), 0);
}

TEST_F(MessagingTest, AReplyWhoseFateIsUnknownIsReportedAndNeverResent) {
  const CustomerMessage customer = CustomerSends();
  // LINE sends the reply, but its answer is lost.
  Fault(R"({"endpoint":"reply","fault":"500","after_accept":true})");
  v1::ReplyMessageResponse reply;
  const grpc::Status status = Reply(customer.reply_token, &reply);
  EXPECT_EQ(Answer(status), "UNKNOWN/OUTCOME_UNKNOWN") << status.error_message();
  EXPECT_EQ(SentCount(), 1);  // Sent once by LINE, and not again by us.
}

TEST_F(MessagingTest, APushIsSentOnceHoweverOftenItIsRequested) {
  const CustomerMessage customer = CustomerSends();
  v1::PushMessageResponse first;
  grpc::Status status = Push(PushRequest(customer.user_id, "order-1001-shipped"), &first);
  ASSERT_TRUE(status.ok()) << Answer(status) << " " << status.error_message();
  EXPECT_TRUE(first.created());
  EXPECT_EQ(first.push().state(), v1::SENT);
  EXPECT_EQ(first.push().attempts(), 1);
  ASSERT_EQ(first.push().sent_messages_size(), 1);

  v1::PushMessageResponse repeat;
  status = Push(PushRequest(customer.user_id, "order-1001-shipped"), &repeat);
  ASSERT_TRUE(status.ok()) << Answer(status);
  EXPECT_FALSE(repeat.created());
  EXPECT_EQ(repeat.push().state(), v1::SENT);
  EXPECT_EQ(repeat.push().sent_messages(0).id(), first.push().sent_messages(0).id());

  const std::string sent = Sent();
  EXPECT_EQ(SentCount(), 1);
  EXPECT_EQ(JsonField(sent, "/sent/0/kind"), "push");
  EXPECT_EQ(JsonField(sent, "/sent/0/retry_key"), first.push().retry_key());
  EXPECT_EQ(GetPush("order-1001-shipped").state(), v1::SENT);

  // The same request id for another push is a caller's mistake, not a repeat.
  status = Push(PushRequest(customer.user_id, "order-1001-shipped", "Something else"), &repeat);
  EXPECT_EQ(Answer(status), "FAILED_PRECONDITION/REQUEST_ID_REUSED");
  EXPECT_EQ(SentCount(), 1);
}

TEST_F(MessagingTest, APushSurvivesAKillBetweenAcceptanceAndLinesAnswer) {
  const CustomerMessage customer = CustomerSends();
  // LINE accepts the first attempt but its answer never comes; channeld is killed meanwhile.
  Fault(R"({"endpoint":"push","fault":"timeout","after_accept":true,"hold_ms":20000})");
  v1::PushMessageResponse response;
  grpc::Status status =
      Push(PushRequest(customer.user_id, "crash-1"), &response, absl::Milliseconds(500));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << Answer(status);
  ASSERT_EQ(kill(channeld_->pid(), SIGKILL), 0);
  ASSERT_TRUE(channeld_->Stop().ok());
  ASSERT_TRUE(line_->Control("POST", "/fake/faults/release", R"({"wait_for":1})").ok());
  ASSERT_TRUE(channeld_->Restart().ok());

  // Asked again after the restart: the push is known (nothing new is sent) ...
  status = Push(PushRequest(customer.user_id, "crash-1"), &response);
  ASSERT_TRUE(status.ok()) << Answer(status) << " " << status.error_message();
  EXPECT_FALSE(response.created());
  // ... and once its lease runs out it is attempted again with the same retry key: LINE
  // answers 409 "already accepted", which counts as sent.
  const v1::Push ended = AwaitPushEnd("crash-1");
  EXPECT_EQ(ended.state(), v1::SENT) << ended.failure_reason() << " " << ended.failure_message();
  EXPECT_EQ(ended.attempts(), 2);

  status = Push(PushRequest(customer.user_id, "crash-1"), &response);
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(response.created());
  EXPECT_EQ(response.push().state(), v1::SENT);
  EXPECT_EQ(SentCount(), 1);
  EXPECT_EQ(JsonField(Sent(), "/sent/0/retry_key"), ended.retry_key());
}

TEST_F(MessagingTest, A5xxStormIsRetriedWithTheSameKeyUntilLineAccepts) {
  const CustomerMessage customer = CustomerSends();
  Fault(R"({"endpoint":"push","fault":"503","count":3})");
  v1::PushMessageResponse response;
  const grpc::Status status = Push(PushRequest(customer.user_id, "storm-5xx"), &response);
  ASSERT_TRUE(status.ok()) << Answer(status);
  EXPECT_EQ(response.push().state(), v1::PENDING);
  EXPECT_EQ(response.push().failure_reason(), "OUTCOME_UNKNOWN");
  EXPECT_TRUE(response.push().has_next_attempt_time());
  const v1::Push ended = AwaitPushEnd("storm-5xx");
  EXPECT_EQ(ended.state(), v1::SENT);
  EXPECT_EQ(ended.attempts(), 4);
  EXPECT_EQ(SentCount(), 1);
}

TEST_F(MessagingTest, A429StormWaitsForLinesRetryAfter) {
  const CustomerMessage customer = CustomerSends();
  Fault(R"({"endpoint":"push","fault":"429","count":2,"retry_after":1})");
  v1::PushMessageResponse response;
  const absl::Time start = absl::Now();
  const grpc::Status status = Push(PushRequest(customer.user_id, "storm-429"), &response);
  ASSERT_TRUE(status.ok()) << Answer(status);
  EXPECT_EQ(response.push().state(), v1::PENDING);
  EXPECT_EQ(response.push().failure_reason(), "LINE_RATE_LIMITED");
  // Never before LINE's Retry-After.
  EXPECT_GE(absl::FromUnixSeconds(response.push().next_attempt_time().seconds()) +
                absl::Nanoseconds(response.push().next_attempt_time().nanos()),
            start + absl::Seconds(1) - absl::Milliseconds(5));
  const v1::Push ended = AwaitPushEnd("storm-429");
  EXPECT_EQ(ended.state(), v1::SENT);
  EXPECT_EQ(ended.attempts(), 3);
  EXPECT_EQ(SentCount(), 1);
}

TEST_F(MessagingTest, APushLineRefusesForGoodEndsWithItsReasonEveryTime) {
  const CustomerMessage customer = CustomerSends();
  auto blocked =
      line_->Control("PATCH", ChannelPath() + "/users/" + customer.user_id, R"({"blocked":true})");
  ASSERT_TRUE(blocked.ok() && blocked->status == 200);
  v1::PushMessageResponse response;
  grpc::Status status = Push(PushRequest(customer.user_id, "to-blocked"), &response);
  EXPECT_EQ(Answer(status), "FAILED_PRECONDITION/RECIPIENT_UNAVAILABLE") << status.error_message();
  status = Push(PushRequest(customer.user_id, "to-blocked"), &response);
  EXPECT_EQ(Answer(status), "FAILED_PRECONDITION/RECIPIENT_UNAVAILABLE");
  const v1::Push push = GetPush("to-blocked");
  EXPECT_EQ(push.state(), v1::FAILED);
  EXPECT_EQ(push.failure_reason(), "RECIPIENT_UNAVAILABLE");
  EXPECT_EQ(push.attempts(), 1);
  EXPECT_EQ(SentCount(), 0);

  // The month's quota: refused for good too.
  ASSERT_TRUE(line_->Control("PATCH", ChannelPath() + "/messaging", R"({"message_quota":0})").ok());
  const CustomerMessage other = CustomerSends();
  status = Push(PushRequest(other.user_id, "over-quota"), &response);
  EXPECT_EQ(Answer(status), "FAILED_PRECONDITION/MONTHLY_QUOTA_EXHAUSTED");
}

TEST_F(MessagingTest, BadMessagesAreRefusedFieldByFieldAndNothingIsSent) {
  const CustomerMessage customer = CustomerSends();
  v1::PushMessageRequest request = PushRequest("not-a-user", "");
  request.add_messages(R"({"type":"text"})");
  request.add_messages(R"({"type":"hologram"})");
  v1::PushMessageResponse response;
  const grpc::Status status = Push(request, &response);
  EXPECT_EQ(Answer(status), "INVALID_ARGUMENT/INVALID_FIELDS");
  const std::vector<std::string> fields = ViolatedFields(status);
  EXPECT_THAT(fields, ::testing::IsSupersetOf(
                          {"to", "request_id", "messages[1].text", "messages[2].type"}));

  v1::ReplyMessageRequest reply;
  reply.set_team_id(kTeam);
  reply.set_channel_id(Channel1().channel_id);
  reply.set_reply_token(customer.reply_token);
  for (int i = 0; i < 6; ++i) reply.add_messages(R"({"type":"text","text":"hi"})");
  v1::ReplyMessageResponse replied;
  const grpc::Status too_many = channeld_->stub().ReplyMessage(Context().get(), reply, &replied);
  EXPECT_EQ(Answer(too_many), "INVALID_ARGUMENT/INVALID_FIELDS");
  EXPECT_THAT(ViolatedFields(too_many), ElementsAre("messages"));
  EXPECT_EQ(SentCount(), 0);
}

TEST_F(MessagingTest, AnotherTeamsCallerCannotUseTheOa) {
  const CustomerMessage customer = CustomerSends();
  auto token = channeld_->AddCaller("inbox-b", "team-b");
  ASSERT_TRUE(token.ok()) << token.status();
  auto team_b = channeld_->StubWithToken(*token);

  v1::PushMessageRequest request = PushRequest(customer.user_id, "intrusion");
  v1::PushMessageResponse response;
  grpc::Status status = team_b->PushMessage(Context().get(), request, &response);
  EXPECT_EQ(Answer(status), "PERMISSION_DENIED/TEAM_NOT_ALLOWED");
  // As its own team, it finds no binding of the channel: nothing about team-a leaks.
  request.set_team_id("team-b");
  status = team_b->PushMessage(Context().get(), request, &response);
  EXPECT_EQ(Answer(status), "NOT_FOUND/BINDING_NOT_FOUND");

  v1::ReplyMessageRequest reply;
  reply.set_team_id("team-b");
  reply.set_channel_id(Channel1().channel_id);
  reply.set_reply_token(customer.reply_token);
  reply.add_messages(R"({"type":"text","text":"hi"})");
  v1::ReplyMessageResponse replied;
  EXPECT_EQ(Answer(team_b->ReplyMessage(Context().get(), reply, &replied)),
            "NOT_FOUND/BINDING_NOT_FOUND");
  EXPECT_EQ(SentCount(), 0);
}

TEST_F(MessagingTest, ARejectedTokenTurnsTheBindingNeedsAttention) {
  const CustomerMessage customer = CustomerSends();
  ASSERT_TRUE(line_->Control("PATCH", ChannelPath(), R"({"token_revoked":true})").ok());
  v1::ReplyMessageResponse reply;
  const grpc::Status status = Reply(customer.reply_token, &reply);
  EXPECT_EQ(Answer(status), "FAILED_PRECONDITION/TOKEN_REJECTED") << status.error_message();

  v1::GetChannelRequest get;
  get.set_team_id(kTeam);
  get.set_channel_id(Channel1().channel_id);
  v1::Channel channel;
  ASSERT_TRUE(channeld_->stub().GetChannel(Context().get(), get, &channel).ok());
  EXPECT_EQ(channel.state(), v1::NEEDS_ATTENTION);
  EXPECT_THAT(channel.attention_reasons(),
              ElementsAre(HasSubstr("LINE rejected the stored access token")));
}

TEST_F(MessagingTest, ProfilesQuotaReadMarksAndLoadingGoThroughTheOa) {
  const CustomerMessage customer = CustomerSends();
  v1::GetProfileRequest profile_request;
  profile_request.set_team_id(kTeam);
  profile_request.set_channel_id(Channel1().channel_id);
  profile_request.set_user_id(customer.user_id);
  v1::Profile profile;
  grpc::Status status = channeld_->stub().GetProfile(Context().get(), profile_request, &profile);
  ASSERT_TRUE(status.ok()) << Answer(status) << " " << status.error_message();
  EXPECT_EQ(profile.user_id(), customer.user_id);
  EXPECT_FALSE(profile.display_name().empty());

  profile_request.set_user_id("U" + std::string(32, 'e'));
  status = channeld_->stub().GetProfile(Context().get(), profile_request, &profile);
  EXPECT_EQ(Answer(status), "NOT_FOUND/PROFILE_NOT_FOUND");

  v1::PushMessageResponse pushed;
  ASSERT_TRUE(Push(PushRequest(customer.user_id, "count-me"), &pushed).ok());
  ASSERT_TRUE(
      line_->Control("PATCH", ChannelPath() + "/messaging", R"({"message_quota":500})").ok());
  v1::GetMessageQuotaRequest quota_request;
  quota_request.set_team_id(kTeam);
  quota_request.set_channel_id(Channel1().channel_id);
  v1::MessageQuota quota;
  status = channeld_->stub().GetMessageQuota(Context().get(), quota_request, &quota);
  ASSERT_TRUE(status.ok()) << Answer(status) << " " << status.error_message();
  EXPECT_TRUE(quota.limited());
  EXPECT_EQ(quota.limit(), 500);
  EXPECT_EQ(quota.used(), 1);

  v1::MarkAsReadRequest read;
  read.set_team_id(kTeam);
  read.set_channel_id(Channel1().channel_id);
  read.set_mark_as_read_token(customer.mark_as_read_token);
  v1::MarkAsReadResponse read_response;
  status = channeld_->stub().MarkAsRead(Context().get(), read, &read_response);
  EXPECT_TRUE(status.ok()) << Answer(status) << " " << status.error_message();

  v1::ShowLoadingAnimationRequest loading;
  loading.set_team_id(kTeam);
  loading.set_channel_id(Channel1().channel_id);
  loading.set_chat_id(customer.user_id);
  loading.set_loading_seconds(10);
  v1::ShowLoadingAnimationResponse loading_response;
  status = channeld_->stub().ShowLoadingAnimation(Context().get(), loading, &loading_response);
  EXPECT_TRUE(status.ok()) << Answer(status) << " " << status.error_message();

  const std::string sent = Sent();
  EXPECT_THAT(sent, HasSubstr(R"("kind":"markAsRead")"));
  EXPECT_THAT(sent, HasSubstr(R"("loading_seconds":10)"));
}

// Peak resident memory of a process, from /proc.
int64_t PeakRssBytes(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "VmHWM:")) {
      int64_t kib = 0;
      std::string number = line.substr(6);
      number.erase(number.find("kB"));
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(number), &kib)) return kib * 1024;
    }
  }
  return -1;
}

TEST_F(MessagingTest, ALargeFileStreamsThroughInBoundedMemory) {
  constexpr int64_t kSize = 64 << 20;
  const CustomerMessage customer =
      CustomerSends(absl::StrCat(R"("message_type":"file","content_size":)", kSize));
  ASSERT_FALSE(customer.message_id.empty());
  // Warm up: the first download's buffers and threads are not what the test is about.
  const Download small = GetContent(CustomerSends(R"("message_type":"image")").message_id);
  ASSERT_TRUE(small.status.ok()) << Answer(small.status) << " " << small.status.error_message();
  EXPECT_EQ(small.content_type, "image/jpeg");
  EXPECT_EQ(small.first_bytes.substr(0, 3), "\xFF\xD8\xFF");

  // A sanitizer build quarantines freed memory (256 MB by default), which would count as
  // growth here: this channeld keeps a small quarantine. Other builds ignore the variable.
  const char* asan_options = getenv("ASAN_OPTIONS");
  const std::string saved = asan_options == nullptr ? "" : asan_options;
  setenv("ASAN_OPTIONS",
         absl::StrCat(saved, saved.empty() ? "" : ":", "quarantine_size_mb=1").c_str(), 1);
  const absl::Status restarted = channeld_->Restart();
  setenv("ASAN_OPTIONS", saved.c_str(), 1);
  ASSERT_TRUE(restarted.ok()) << restarted;
  const Download warm = GetContent(CustomerSends(R"("message_type":"image")").message_id);
  ASSERT_TRUE(warm.status.ok()) << Answer(warm.status);

  const int64_t before = PeakRssBytes(channeld_->pid());
  const Download file = GetContent(customer.message_id);
  const int64_t after = PeakRssBytes(channeld_->pid());
  ASSERT_TRUE(file.status.ok()) << Answer(file.status) << " " << file.status.error_message();
  EXPECT_EQ(file.size, kSize);
  EXPECT_EQ(file.bytes, kSize);
  EXPECT_GT(file.chunks, 100);
  ASSERT_GT(before, 0);
  // The file is 64 MiB; channeld's peak grows by a few of its 64 KiB chunks, not by the file.
  EXPECT_LT(after - before, 16 << 20) << "before " << before << " after " << after;
}

TEST_F(MessagingTest, AVideoStillProcessingIsNotReadyYet) {
  const CustomerMessage customer = CustomerSends(R"("message_type":"video")");
  Download video = GetContent(customer.message_id);
  EXPECT_EQ(Answer(video.status), "FAILED_PRECONDITION/CONTENT_NOT_READY")
      << video.status.error_message();
  auto ready = line_->Control("PATCH", ChannelPath() + "/content/" + customer.message_id,
                              R"({"status":"succeeded"})");
  ASSERT_TRUE(ready.ok() && ready->status == 200);
  video = GetContent(customer.message_id);
  ASSERT_TRUE(video.status.ok()) << Answer(video.status);
  EXPECT_EQ(video.content_type, "video/mp4");
  EXPECT_EQ(video.bytes, video.size);

  const Download text = GetContent(CustomerSends().message_id);
  EXPECT_EQ(Answer(text.status), "NOT_FOUND/CONTENT_NOT_FOUND");
}

TEST_F(MessagingTest, SendsAreCountedInMetricsAndTextIsNeverLogged) {
  const CustomerMessage customer = CustomerSends();
  v1::ReplyMessageResponse reply;
  ASSERT_TRUE(Reply(customer.reply_token, &reply, "private-text-4711").ok());
  v1::PushMessageResponse pushed;
  ASSERT_TRUE(Push(PushRequest(customer.user_id, "metrics-1", "private-text-4712"), &pushed).ok());
  auto metrics = HttpCall("GET", "http://" + channeld_->admin_address() + "/metrics", "", {});
  ASSERT_TRUE(metrics.ok());
  EXPECT_THAT(metrics->body, HasSubstr(R"(channeld_line_calls_total{call="reply",result="ok"} 1)"));
  EXPECT_THAT(metrics->body, HasSubstr(R"(channeld_line_calls_total{call="push",result="ok"} 1)"));
  const std::string log = channeld_->ReadLogOnceItHas("push_attempt");
  EXPECT_THAT(log, HasSubstr("push_attempt"));
  EXPECT_THAT(log, Not(HasSubstr("private-text-47")));
  EXPECT_THAT(log, Not(HasSubstr(Channel1().token)));
}

// One team's calls to LINE hanging cannot take the service from the others.
class OutboundLimitsTest : public MessagingTest {
 protected:
  std::vector<std::string> Flags() override {
    return {"--line_timeout=5s", "--push_lease=8s", "--outbound_per_binding_in_flight=2"};
  }

  // A user of `channel` the fake invents.
  std::string NewUser(const FixtureChannel& channel) {
    auto users = line_->Control("POST", "/fake/channels/" + channel.channel_id + "/users", "{}");
    EXPECT_TRUE(users.ok() && users->status == 200);
    return users.ok() ? JsonField(users->body, "/user_ids/0") : "";
  }

  int PushCallsSeenByLine() {
    auto state = line_->Control("GET", ChannelPath());
    int calls = 0;
    if (state.ok()) (void)absl::SimpleAtoi(JsonField(state->body, "/calls/push"), &calls);
    return calls;
  }
};

TEST_F(OutboundLimitsTest, ABindingWhoseCallsHangDoesNotHoldUpOthers) {
  BindForWebhooks(*channeld_, Channel2(), "team-b");
  ASSERT_FALSE(HasFatalFailure());
  const std::string user_a = NewUser(Channel1());
  const std::string user_b = NewUser(Channel2());
  Fault(R"({"endpoint":"push","fault":"timeout","count":2,"hold_ms":30000})");
  std::vector<std::thread> hanging;
  for (int i = 0; i < 2; ++i) {
    hanging.emplace_back([&, i] {
      v1::PushMessageResponse response;
      (void)Push(PushRequest(user_a, absl::StrCat("hangs-", i)), &response);
    });
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (PushCallsSeenByLine() < 2 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(20));
  ASSERT_EQ(PushCallsSeenByLine(), 2);

  // Team A's third push waits for its share, with a hint when to retry ...
  v1::PushMessageResponse response;
  grpc::Status status = Push(PushRequest(user_a, "third"), &response);
  EXPECT_EQ(Answer(status), "RESOURCE_EXHAUSTED/OUTBOUND_RATE_LIMITED") << status.error_message();
  // ... while team B's OA is served at once.
  v1::PushMessageRequest other = PushRequest(user_b, "team-b-push");
  other.set_team_id("team-b");
  other.set_channel_id(Channel2().channel_id);
  status = Push(other, &response);
  ASSERT_TRUE(status.ok()) << Answer(status) << " " << status.error_message();
  EXPECT_EQ(response.push().state(), v1::SENT);

  ASSERT_TRUE(line_->Control("POST", "/fake/faults/release", R"({"wait_for":2})").ok());
  for (std::thread& thread : hanging) thread.join();
  // The hung pushes are retried with their keys and each arrives once.
  EXPECT_EQ(AwaitPushEnd("hangs-0").state(), v1::SENT);
  EXPECT_EQ(AwaitPushEnd("hangs-1").state(), v1::SENT);
  EXPECT_EQ(SentCount(), 2);
}

}  // namespace
}  // namespace linechannel::testing
