// CurlLineApi's messaging calls against the real fake LINE platform (tools/fake_line), which
// answers them with LINE's semantics: reply tokens from its webhooks, retry keys, quota,
// profiles, streamed content and scripted faults.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "server/base/errors.h"
#include "server/line/curl_line_api.h"
#include "tests/tools/messaging_test_base.h"
#include "tools/fake_line/content_bytes.h"

namespace linechannel::testing {
namespace {

using server::CurlLineApi;
using server::LineContentHead;
using server::LineMessagingApi;
using server::Secret;
using ::testing::HasSubstr;
using ::testing::Not;
namespace reason = server::reason;

constexpr char kKey1[] = "123e4567-e89b-12d3-a456-426614174000";
constexpr char kKey2[] = "123e4567-e89b-12d3-a456-426614174001";
constexpr char kMessages[] = R"([{"type":"text","text":"hello from channeld"}])";
constexpr int64_t kFiveMiB = 5 * 1024 * 1024;

absl::Time Soon() { return absl::Now() + absl::Seconds(20); }

std::string ReasonOf(const absl::Status& status) {
  return server::ErrorReason(status).value_or("");
}

absl::Duration RetryDelayOf(const absl::Status& status) {
  const auto payload = status.GetPayload("type.googleapis.com/google.rpc.RetryInfo");
  if (!payload) return absl::Seconds(-1);
  google::rpc::RetryInfo retry;
  if (!retry.ParseFromString(std::string(*payload))) return absl::Seconds(-1);
  return absl::Seconds(retry.retry_delay().seconds());
}

class CurlLineMessagingFakeTest : public MessagingTest {
 protected:
  void SetUp() override {
    MessagingTest::SetUp();
    CurlLineApi::Options options;
    options.base_url = fake().base_url();
    options.timeout = absl::Seconds(10);
    options.connect_timeout = absl::Seconds(2);
    line_ = std::make_unique<CurlLineApi>(options);
  }

  absl::StatusOr<server::LineSendResult> PushTo(const std::string& to, const std::string& key) {
    return line_->Push(token_, to, kMessages, false, key, Soon());
  }

  // Sets the size of a message's content, as LINE would have it.
  void SetContent(const std::string& message_id, const std::string& json) {
    HttpReply reply = client().PatchJson(
        absl::StrCat("/fake/channels/", kChannelA, "/content/", message_id), json);
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  const Secret token_{kTokenA};
  std::unique_ptr<CurlLineApi> line_;
};

TEST_F(CurlLineMessagingFakeTest, RepliesWithTheTokenOfAWebhookEvent) {
  const Event event = Generate();
  auto result = line_->Reply(token_, event.reply_token, kMessages, false, Soon());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->sent_messages.size(), 1u);
  EXPECT_FALSE(result->sent_messages[0].id.empty());
  EXPECT_FALSE(result->sent_messages[0].quote_token.empty());

  JsonView sent = Sent();
  ASSERT_EQ(sent.Size("/sent"), 1u);
  EXPECT_EQ(sent.Str("/sent/0/kind"), "reply");
  EXPECT_EQ(sent.Str("/sent/0/to"), event.user_id);
  EXPECT_EQ(sent.Str("/sent/0/messages/0/text"), "hello from channeld");
  EXPECT_EQ(sent.Str("/sent/0/request_id"), result->request_id);
  EXPECT_EQ(sent.Str("/sent/0/message_ids/0"), result->sent_messages[0].id);

  const absl::Status again =
      line_->Reply(token_, event.reply_token, kMessages, false, Soon()).status();
  EXPECT_TRUE(absl::IsInvalidArgument(again)) << again;
  EXPECT_EQ(ReasonOf(again), reason::kReplyTokenInvalid);
  EXPECT_THAT(again.message(), Not(HasSubstr(event.reply_token)));
  EXPECT_THAT(again.message(), Not(HasSubstr(kTokenA)));
}

TEST_F(CurlLineMessagingFakeTest, APushWithTheSameRetryKeyIsSentOnce) {
  const std::string user = NewUser();
  auto first = PushTo(user, kKey1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->already_accepted);
  ASSERT_EQ(first->sent_messages.size(), 1u);

  auto second = PushTo(user, kKey1);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->already_accepted);
  EXPECT_EQ(second->request_id, first->request_id);
  ASSERT_EQ(second->sent_messages.size(), 1u);
  EXPECT_EQ(second->sent_messages[0].id, first->sent_messages[0].id);

  JsonView sent = Sent();
  ASSERT_EQ(sent.Size("/sent"), 1u);
  EXPECT_EQ(sent.Str("/sent/0/kind"), "push");
  EXPECT_EQ(sent.Str("/sent/0/to"), user);
  EXPECT_EQ(sent.Str("/sent/0/retry_key"), kKey1);
  EXPECT_EQ(sent.Str("/sent/0/request_id"), first->request_id);
}

TEST_F(CurlLineMessagingFakeTest, APushLineAcceptedButAnsweredWith500IsFoundOnRetry) {
  const std::string user = NewUser();
  AddFault(R"({"endpoint": "push", "fault": "500", "after_accept": true})");
  const absl::Status lost = PushTo(user, kKey1).status();
  EXPECT_EQ(lost.code(), absl::StatusCode::kUnknown) << lost;
  EXPECT_EQ(ReasonOf(lost), reason::kOutcomeUnknown);
  JsonView sent = Sent();
  ASSERT_EQ(sent.Size("/sent"), 1u);
  EXPECT_THAT(lost.message(),
              HasSubstr(absl::StrCat("X-Line-Request-Id: ", sent.Str("/sent/0/request_id"))));

  auto retried = PushTo(user, kKey1);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_TRUE(retried->already_accepted);
  EXPECT_EQ(retried->request_id, sent.Str("/sent/0/request_id"));
  EXPECT_EQ(Sent().Size("/sent"), 1u);
}

TEST_F(CurlLineMessagingFakeTest, ADroppedConnectionIsOfUnknownOutcome) {
  const std::string user = NewUser();
  AddFault(R"({"endpoint": "push", "fault": "drop", "after_accept": true})");
  const absl::Status dropped = PushTo(user, kKey1).status();
  EXPECT_EQ(ReasonOf(dropped), reason::kOutcomeUnknown) << dropped;
  auto retried = PushTo(user, kKey1);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_TRUE(retried->already_accepted);
}

TEST_F(CurlLineMessagingFakeTest, RateLimitsQuotaAndRecipientsAreTold) {
  const std::string user = NewUser();
  AddFault(R"({"endpoint": "push", "fault": "429", "retry_after": 7})");
  const absl::Status limited = PushTo(user, kKey1).status();
  EXPECT_TRUE(absl::IsResourceExhausted(limited)) << limited;
  EXPECT_EQ(ReasonOf(limited), reason::kLineRateLimited);
  EXPECT_EQ(RetryDelayOf(limited), absl::Seconds(7));

  const absl::Status nobody = PushTo("U00000000000000000000000000000000", kKey1).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(nobody)) << nobody;
  EXPECT_EQ(ReasonOf(nobody), reason::kRecipientUnavailable);

  SetMessaging(R"({"message_quota": 1})");
  ASSERT_TRUE(PushTo(user, kKey1).ok());
  const absl::Status over = PushTo(user, kKey2).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(over)) << over;
  EXPECT_EQ(ReasonOf(over), reason::kMonthlyQuotaExhausted);

  const absl::Status rejected =
      line_->Push(Secret("not-a-token"), user, kMessages, false, kKey2, Soon()).status();
  EXPECT_TRUE(absl::IsUnauthenticated(rejected)) << rejected;
  EXPECT_EQ(ReasonOf(rejected), reason::kTokenRejected);
}

TEST_F(CurlLineMessagingFakeTest, GetsProfilesOfUsersAndGroupMembers) {
  const Event event = Generate();
  auto profile = line_->GetProfile(token_, event.user_id, "", Soon());
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_EQ(profile->user_id, event.user_id);
  EXPECT_FALSE(profile->display_name.empty());

  const std::string group = "C0123456789abcdef0123456789abcdef";
  const Event in_group = Generate(absl::StrCat(R"({"group_id": ")", group, R"("})"));
  auto member = line_->GetProfile(token_, in_group.user_id, group, Soon());
  ASSERT_TRUE(member.ok()) << member.status();
  EXPECT_EQ(member->user_id, in_group.user_id);

  const absl::Status stranger =
      line_->GetProfile(token_, "U00000000000000000000000000000000", "", Soon()).status();
  EXPECT_TRUE(absl::IsNotFound(stranger)) << stranger;
  EXPECT_EQ(ReasonOf(stranger), reason::kProfileNotFound);
}

TEST_F(CurlLineMessagingFakeTest, GetsTheQuotaAndWhatPushesUsed) {
  auto unlimited = line_->GetQuota(token_, Soon());
  ASSERT_TRUE(unlimited.ok()) << unlimited.status();
  EXPECT_FALSE(unlimited->limited);
  EXPECT_EQ(unlimited->used, 0);

  SetMessaging(R"({"message_quota": 100})");
  ASSERT_TRUE(PushTo(NewUser(), kKey1).ok());
  auto quota = line_->GetQuota(token_, Soon());
  ASSERT_TRUE(quota.ok()) << quota.status();
  EXPECT_TRUE(quota->limited);
  EXPECT_EQ(quota->limit, 100);
  EXPECT_EQ(quota->used, 1);
}

TEST_F(CurlLineMessagingFakeTest, MarksAsReadAndShowsTheLoadingAnimation) {
  const Event event = Generate();
  ASSERT_TRUE(line_->MarkAsRead(token_, event.mark_as_read_token, Soon()).ok());
  ASSERT_TRUE(line_->ShowLoadingAnimation(token_, event.user_id, 15, Soon()).ok());
  JsonView sent = Sent();
  ASSERT_EQ(sent.Size("/sent"), 2u);
  EXPECT_EQ(sent.Str("/sent/0/kind"), "markAsRead");
  EXPECT_EQ(sent.Str("/sent/0/to"), event.user_id);
  EXPECT_EQ(sent.Str("/sent/1/kind"), "loading");
  EXPECT_EQ(sent.Int("/sent/1/loading_seconds"), 15);

  const absl::Status bad = line_->MarkAsRead(token_, "no-such-token", Soon());
  EXPECT_TRUE(absl::IsInvalidArgument(bad)) << bad;
  EXPECT_EQ(ReasonOf(bad), reason::kMarkAsReadTokenInvalid);
}

TEST_F(CurlLineMessagingFakeTest, StreamsFiveMebibytesOfContent) {
  const Event image = Generate(R"({"message_type": "image"})");
  SetContent(image.message_id, absl::StrCat(R"({"size": )", kFiveMiB, "}"));

  std::vector<LineContentHead> heads;
  int64_t received = 0;
  size_t largest_chunk = 0;
  std::string first_bytes;
  bool all_bytes_match = true;
  std::string expected;
  LineMessagingApi::ContentSink sink{
      [&heads](const LineContentHead& head) {
        heads.push_back(head);
        return true;
      },
      [&](absl::string_view chunk) {
        // Every byte is checked against the fake's generator as it arrives; nothing is kept.
        expected.resize(chunk.size());
        fake_line::FillContent(image.message_id, "image", "", static_cast<uint64_t>(received),
                               chunk.size(), expected.data());
        all_bytes_match = all_bytes_match && chunk == expected;
        if (first_bytes.size() < 3) {
          const absl::string_view head = chunk.substr(0, 3 - first_bytes.size());
          first_bytes.append(head.data(), head.size());
        }
        received += static_cast<int64_t>(chunk.size());
        largest_chunk = std::max(largest_chunk, chunk.size());
        return true;
      }};
  const absl::Status status = line_->GetContent(token_, image.message_id, sink, Soon());
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].content_type, "image/jpeg");
  EXPECT_EQ(heads[0].size, kFiveMiB);
  EXPECT_EQ(received, kFiveMiB);
  EXPECT_EQ(first_bytes, "\xFF\xD8\xFF");
  EXPECT_TRUE(all_bytes_match);
  EXPECT_LT(largest_chunk, static_cast<size_t>(kFiveMiB));
}

TEST_F(CurlLineMessagingFakeTest, AVideoStillProcessingIsNotReady) {
  const Event video = Generate(R"({"message_type": "video", "content_size": 5000})");
  int64_t received = 0;
  LineMessagingApi::ContentSink sink{[](const LineContentHead&) { return true; },
                                     [&received](absl::string_view chunk) {
                                       received += static_cast<int64_t>(chunk.size());
                                       return true;
                                     }};
  const absl::Status processing = line_->GetContent(token_, video.message_id, sink, Soon());
  EXPECT_TRUE(absl::IsFailedPrecondition(processing)) << processing;
  EXPECT_EQ(ReasonOf(processing), reason::kContentNotReady);
  EXPECT_EQ(RetryDelayOf(processing), absl::Seconds(5));
  EXPECT_EQ(received, 0);

  SetContent(video.message_id, R"({"status": "succeeded"})");
  ASSERT_TRUE(line_->GetContent(token_, video.message_id, sink, Soon()).ok());
  EXPECT_EQ(received, 5000);

  const absl::Status missing = line_->GetContent(token_, "999999", sink, Soon());
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  EXPECT_EQ(ReasonOf(missing), reason::kContentNotFound);
}

}  // namespace
}  // namespace linechannel::testing
