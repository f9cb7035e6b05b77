#include "server/grpc/request_validation.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "server/base/errors.h"
#include "server/binding/line_id.h"

namespace linechannel::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;

// (field, description) of every violation in `status`.
std::vector<std::pair<std::string, std::string>> Violations(const absl::Status& status) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto payload = status.GetPayload("type.googleapis.com/google.rpc.BadRequest");
  if (!payload) return out;
  google::rpc::BadRequest bad;
  bad.ParseFromString(std::string(*payload));
  for (const auto& v : bad.field_violations()) out.emplace_back(v.field(), v.description());
  return out;
}

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const auto& v : Violations(status)) fields.push_back(v.first);
  return fields;
}

v1::BindChannelRequest GoodBind() {
  v1::BindChannelRequest r;
  r.set_team_id("team-a.1:x_y");
  r.set_app_name("Shop A ☕");
  r.set_channel_id("1656000001");
  r.set_channel_secret("0123456789abcdef0123456789ABCDEF");
  r.set_channel_access_token("abcDEF123+/=abcDEF123+/=abcDEF123+/=");
  r.set_line_id("@123abcde");
  return r;
}

TEST(ValidateBindChannelTest, AcceptsAGoodRequest) {
  EXPECT_TRUE(ValidateBindChannel(GoodBind()).ok());
  v1::BindChannelRequest premium = GoodBind();
  premium.set_line_id("shop.a-b_c");
  EXPECT_TRUE(ValidateBindChannel(premium).ok());
}

TEST(ValidateBindChannelTest, NamesEveryMissingFieldAtOnce) {
  const absl::Status status = ValidateBindChannel(v1::BindChannelRequest());
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_EQ(ErrorReason(status), "INVALID_FIELDS");
  EXPECT_THAT(Fields(status), ElementsAre("team_id", "app_name", "channel_id", "channel_secret",
                                          "channel_access_token", "line_id"));
  for (const auto& [field, description] : Violations(status)) {
    EXPECT_THAT(description, HasSubstr("required")) << field;
  }
}

struct BadField {
  std::string field;
  std::string value;
  std::string expected;

  friend void PrintTo(const BadField& bad, std::ostream* os) {
    *os << bad.field << " (" << bad.value.size() << " bytes)";
  }
};

class BadBindFieldTest : public ::testing::TestWithParam<BadField> {};

TEST_P(BadBindFieldTest, IsNamedWithAnActionableDescription) {
  const BadField& bad = GetParam();
  v1::BindChannelRequest request = GoodBind();
  const auto* field = request.GetDescriptor()->FindFieldByName(bad.field);
  ASSERT_NE(field, nullptr);
  request.GetReflection()->SetString(&request, field, bad.value);
  const absl::Status status = ValidateBindChannel(request);
  ASSERT_TRUE(absl::IsInvalidArgument(status)) << bad.field << "=" << bad.value;
  const auto violations = Violations(status);
  ASSERT_EQ(violations.size(), 1u) << status;
  EXPECT_EQ(violations[0].first, bad.field);
  EXPECT_THAT(violations[0].second, HasSubstr(bad.expected));
  // Secrets and tokens are never echoed back.
  if (bad.field == "channel_secret" || bad.field == "channel_access_token") {
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(bad.value)));
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryBadShape, BadBindFieldTest,
    ::testing::Values(
        BadField{"team_id", "has space", "letters, digits"},
        BadField{"team_id", "ü", "letters, digits"},
        BadField{"team_id", std::string(65, 'a'), "1-64"}, BadField{"app_name", "   ", "required"},
        BadField{"app_name", "line\nbreak", "control characters"},
        BadField{"app_name", "tab\there", "control characters"},
        BadField{"app_name", std::string("bad \xff utf8"), "UTF-8"},
        BadField{"app_name", std::string(101, 'x'), "at most 100"},
        BadField{"channel_id", "16560a0001", "digits only"},
        BadField{"channel_id", "-1", "digits only"},
        BadField{"channel_id", std::string(21, '1'), "digits only"},
        BadField{"channel_secret", "0123456789abcdef0123456789abcde", "32 hexadecimal"},
        BadField{"channel_secret", "0123456789abcdef0123456789abcdefa", "32 hexadecimal"},
        BadField{"channel_secret", "0123456789abcdef0123456789abcdeg", "32 hexadecimal"},
        BadField{"channel_secret", "0123456789abcdef 123456789abcdef", "spaces or line breaks"},
        BadField{"channel_secret", std::string(172, 'T'), "looks like a channel access token"},
        BadField{"channel_access_token", "Bearer abcdefghijkl", "without the \"Bearer \" prefix"},
        BadField{"channel_access_token", "abc def", "spaces or line breaks"},
        BadField{"channel_access_token", "0123456789abcdef0123456789abcdef",
                 "looks like a channel secret"},
        BadField{"channel_access_token", std::string(2049, 'a'), "at most 2048"},
        BadField{"channel_access_token", "tökén", "printable ASCII"},
        BadField{"line_id", "@", "LINE ID"}, BadField{"line_id", "@@abc", "LINE ID"},
        BadField{"line_id", "has space", "LINE ID"},
        BadField{"line_id", std::string(31, 'a'), "LINE ID"}),
    [](const ::testing::TestParamInfo<BadField>& info) {
      return info.param.field + "_" + std::to_string(info.index);
    });

TEST(ValidateUpdateCredentialsTest, NeedsAtLeastOneNewValue) {
  v1::UpdateCredentialsRequest request;
  request.set_team_id("t");
  request.set_channel_id("1");
  EXPECT_THAT(Fields(ValidateUpdateCredentials(request)),
              ElementsAre("channel_secret", "channel_access_token"));
  request.set_channel_secret("0123456789abcdef0123456789abcdef");
  EXPECT_TRUE(ValidateUpdateCredentials(request).ok());
  request.set_channel_access_token("Bearer x");
  EXPECT_THAT(Fields(ValidateUpdateCredentials(request)), ElementsAre("channel_access_token"));
}

TEST(ValidateListChannelsTest, ChecksPageSizeAndToken) {
  v1::ListChannelsRequest request;
  request.set_team_id("t");
  EXPECT_TRUE(ValidateListChannels(request).ok());
  request.set_page_size(1000);
  EXPECT_TRUE(ValidateListChannels(request).ok());
  request.set_page_size(1001);
  EXPECT_THAT(Fields(ValidateListChannels(request)), ElementsAre("page_size"));
  request.set_page_size(-1);
  EXPECT_THAT(Fields(ValidateListChannels(request)), ElementsAre("page_size"));
  request.set_page_size(10);
  request.set_page_token("not-a-token");
  EXPECT_THAT(Fields(ValidateListChannels(request)), ElementsAre("page_token"));
  request.set_page_token(EncodePageToken(42));
  EXPECT_TRUE(ValidateListChannels(request).ok());
}

TEST(ValidateListAuditEntriesTest, ChecksAnOptionalChannelPageSizeAndAnAuditToken) {
  v1::ListAuditEntriesRequest request;
  request.set_team_id("t");
  EXPECT_TRUE(ValidateListAuditEntries(request).ok());
  request.set_channel_id("1656000001");
  request.set_page_size(1000);
  EXPECT_TRUE(ValidateListAuditEntries(request).ok());
  request.set_channel_id("12x");
  request.set_page_size(1001);
  EXPECT_THAT(Fields(ValidateListAuditEntries(request)), ElementsAre("channel_id", "page_size"));
  request.set_channel_id("");
  request.set_page_size(-1);
  EXPECT_THAT(Fields(ValidateListAuditEntries(request)), ElementsAre("page_size"));
  request.set_page_size(0);
  // A ListChannels token is another kind of position.
  request.set_page_token(EncodePageToken(42));
  EXPECT_THAT(Fields(ValidateListAuditEntries(request)), ElementsAre("page_token"));
  request.set_page_token(EncodeAuditPageToken(42));
  EXPECT_TRUE(ValidateListAuditEntries(request).ok());
  request.set_team_id("");
  EXPECT_THAT(Fields(ValidateListAuditEntries(request)), ElementsAre("team_id"));
}

TEST(ValidateBindingRefTest, ChecksBothParts) {
  EXPECT_TRUE(ValidateBindingRef("t", "1").ok());
  EXPECT_THAT(Fields(ValidateBindingRef("", "")), ElementsAre("team_id", "channel_id"));
}

TEST(PageTokenTest, RoundTripsAndRejectsForgeries) {
  int64_t row = 0;
  EXPECT_TRUE(DecodePageToken(EncodePageToken(12345), &row));
  EXPECT_EQ(row, 12345);
  EXPECT_FALSE(DecodePageToken("", &row));
  EXPECT_FALSE(DecodePageToken("YWZ0ZXI6LTE", &row));  // "after:-1"
  EXPECT_FALSE(DecodePageToken("!!!!", &row));
  EXPECT_FALSE(DecodePageToken(std::string(100, 'A'), &row));

  EXPECT_TRUE(DecodeAuditPageToken(EncodeAuditPageToken(777), &row));
  EXPECT_EQ(row, 777);
  EXPECT_FALSE(DecodeAuditPageToken(EncodePageToken(777), &row));
  EXPECT_FALSE(DecodePageToken(EncodeAuditPageToken(777), &row));
}

TEST(NormalizeLineIdTest, DropsTheAtAndLowerCases) {
  EXPECT_EQ(NormalizeLineId("@123AbCdE"), "123abcde");
  EXPECT_EQ(NormalizeLineId("premium"), "premium");
}

// --- Outbound messaging ---

constexpr char kUser[] = "U0123456789abcdef0123456789abcdef";
constexpr char kGroup[] = "C0123456789abcdef0123456789abcdef";
constexpr char kRoom[] = "R0123456789abcdef0123456789abcdef";
constexpr char kText[] = R"({"type":"text","text":"Thanks! An agent will answer shortly."})";

template <typename Request>
Request ForBinding() {
  Request request;
  request.set_team_id("team-a");
  request.set_channel_id("1656000001");
  return request;
}

v1::ReplyMessageRequest GoodReply() {
  auto request = ForBinding<v1::ReplyMessageRequest>();
  request.set_reply_token("nHuyWiB7yP5Zw52FIkcQobQuGDXCTA");
  request.add_messages(kText);
  return request;
}

v1::PushMessageRequest GoodPush() {
  auto request = ForBinding<v1::PushMessageRequest>();
  request.set_to(kUser);
  request.add_messages(kText);
  request.set_request_id("ticket-42:reply.1_a");
  return request;
}

TEST(ValidateReplyMessageTest, AcceptsAGoodReply) {
  EXPECT_TRUE(ValidateReplyMessage(GoodReply()).ok());
  v1::ReplyMessageRequest longest = GoodReply();
  longest.set_reply_token(std::string(256, '~'));
  for (int i = 0; i < 4; ++i) longest.add_messages(kText);
  EXPECT_TRUE(ValidateReplyMessage(longest).ok());
}

TEST(ValidateReplyMessageTest, NamesEveryBadFieldAtOnce) {
  const absl::Status status = ValidateReplyMessage(v1::ReplyMessageRequest());
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_EQ(ErrorReason(status), "INVALID_FIELDS");
  EXPECT_THAT(Fields(status), ElementsAre("team_id", "channel_id", "reply_token", "messages"));

  v1::ReplyMessageRequest request = GoodReply();
  request.set_channel_id("abc");
  request.set_reply_token("token with spaces");
  request.add_messages(R"({"type":"text","text":""})");
  request.add_messages("[]");
  EXPECT_THAT(Fields(ValidateReplyMessage(request)),
              ElementsAre("channel_id", "reply_token", "messages[1].text", "messages[2]"));
}

TEST(ValidateReplyMessageTest, ChecksTheTokenWithoutEchoingIt) {
  for (const std::string& token :
       {std::string(257, 'a'), std::string("replytoken\xe3\x81\x82"), std::string("a\tb")}) {
    v1::ReplyMessageRequest request = GoodReply();
    request.set_reply_token(token);
    const absl::Status status = ValidateReplyMessage(request);
    EXPECT_THAT(Fields(status), ElementsAre("reply_token"));
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(token)));
  }
  v1::ReplyMessageRequest six = GoodReply();
  for (int i = 0; i < 5; ++i) six.add_messages(kText);
  EXPECT_THAT(Fields(ValidateReplyMessage(six)), ElementsAre("messages"));
}

TEST(ValidatePushMessageTest, AcceptsUsersGroupsAndRooms) {
  for (const char* to : {kUser, kGroup, kRoom}) {
    v1::PushMessageRequest request = GoodPush();
    request.set_to(to);
    EXPECT_TRUE(ValidatePushMessage(request).ok()) << to;
  }
  v1::PushMessageRequest longest_id = GoodPush();
  longest_id.set_request_id(std::string(60, 'a') + "-_.:");
  EXPECT_TRUE(ValidatePushMessage(longest_id).ok());
}

TEST(ValidatePushMessageTest, NamesEveryBadFieldAtOnce) {
  EXPECT_THAT(Fields(ValidatePushMessage(v1::PushMessageRequest())),
              ElementsAre("team_id", "channel_id", "to", "messages", "request_id"));
  v1::PushMessageRequest request = GoodPush();
  request.set_to("U0123456789ABCDEF0123456789ABCDEF");
  request.set_messages(0, R"({"type":"sticker"})");
  request.set_request_id("has/slash");
  EXPECT_THAT(Fields(ValidatePushMessage(request)),
              ElementsAre("to", "messages[0].packageId", "messages[0].stickerId", "request_id"));
}

TEST(ValidatePushMessageTest, ChecksRecipientAndRequestId) {
  for (const std::string& to :
       {std::string("X0123456789abcdef0123456789abcdef"), std::string(kUser).substr(0, 32),
        std::string(kUser) + "0", std::string("u0123456789abcdef0123456789abcdef"),
        std::string("U0123456789abcdef0123456789abcdeg"), std::string("@123abcde")}) {
    v1::PushMessageRequest request = GoodPush();
    request.set_to(to);
    const absl::Status status = ValidatePushMessage(request);
    ASSERT_THAT(Fields(status), ElementsAre("to")) << to;
    EXPECT_THAT(Violations(status)[0].second, HasSubstr("32 lower-case hexadecimal"));
  }
  for (const std::string& id : {std::string(65, 'a'), std::string("a b"), std::string("ü")}) {
    v1::PushMessageRequest request = GoodPush();
    request.set_request_id(id);
    EXPECT_THAT(Fields(ValidatePushMessage(request)), ElementsAre("request_id")) << id;
  }
}

TEST(ValidateGetPushTest, NeedsARequestId) {
  auto request = ForBinding<v1::GetPushRequest>();
  request.set_request_id("ticket-42");
  EXPECT_TRUE(ValidateGetPush(request).ok());
  request.set_request_id(std::string(65, 'a'));
  EXPECT_THAT(Fields(ValidateGetPush(request)), ElementsAre("request_id"));
  EXPECT_THAT(Fields(ValidateGetPush(v1::GetPushRequest())),
              ElementsAre("team_id", "channel_id", "request_id"));
}

TEST(ValidateGetProfileTest, ChecksTheUserAndAtMostOneGroupOrRoom) {
  auto request = ForBinding<v1::GetProfileRequest>();
  request.set_user_id(kUser);
  EXPECT_TRUE(ValidateGetProfile(request).ok());
  request.set_group_id(kGroup);
  EXPECT_TRUE(ValidateGetProfile(request).ok());
  request.set_room_id(kRoom);
  EXPECT_THAT(Fields(ValidateGetProfile(request)), ElementsAre("group_id", "room_id"));
  request.clear_group_id();
  EXPECT_TRUE(ValidateGetProfile(request).ok());
  request.set_room_id(kGroup);
  EXPECT_THAT(Fields(ValidateGetProfile(request)), ElementsAre("room_id"));
  request.clear_room_id();
  request.set_group_id(kRoom);
  request.set_user_id(kGroup);
  EXPECT_THAT(Fields(ValidateGetProfile(request)), ElementsAre("user_id", "group_id"));
  EXPECT_THAT(Fields(ValidateGetProfile(v1::GetProfileRequest())),
              ElementsAre("team_id", "channel_id", "user_id"));
}

TEST(ValidateGetMessageContentTest, NeedsADigitMessageId) {
  auto request = ForBinding<v1::GetMessageContentRequest>();
  for (const std::string& id : {std::string("325708"), std::string(64, '9')}) {
    request.set_message_id(id);
    EXPECT_TRUE(ValidateGetMessageContent(request).ok()) << id;
  }
  for (const std::string& id :
       {std::string(65, '1'), std::string("12a"), std::string("-1"), std::string(" 1")}) {
    request.set_message_id(id);
    EXPECT_THAT(Fields(ValidateGetMessageContent(request)), ElementsAre("message_id")) << id;
  }
  EXPECT_THAT(Fields(ValidateGetMessageContent(v1::GetMessageContentRequest())),
              ElementsAre("team_id", "channel_id", "message_id"));
}

TEST(ValidateGetMessageQuotaTest, ChecksTheBinding) {
  EXPECT_TRUE(ValidateGetMessageQuota(ForBinding<v1::GetMessageQuotaRequest>()).ok());
  v1::GetMessageQuotaRequest request;
  request.set_team_id("bad team");
  request.set_channel_id("x");
  EXPECT_THAT(Fields(ValidateGetMessageQuota(request)), ElementsAre("team_id", "channel_id"));
}

TEST(ValidateMarkAsReadTest, ChecksTheTokenWithoutEchoingIt) {
  auto request = ForBinding<v1::MarkAsReadRequest>();
  request.set_mark_as_read_token(std::string(512, 'x'));
  EXPECT_TRUE(ValidateMarkAsRead(request).ok());
  for (const std::string& token : {std::string(513, 'x'), std::string("mark as read")}) {
    request.set_mark_as_read_token(token);
    const absl::Status status = ValidateMarkAsRead(request);
    EXPECT_THAT(Fields(status), ElementsAre("mark_as_read_token"));
    EXPECT_THAT(std::string(status.message()), Not(HasSubstr(token)));
  }
  EXPECT_THAT(Fields(ValidateMarkAsRead(v1::MarkAsReadRequest())),
              ElementsAre("team_id", "channel_id", "mark_as_read_token"));
}

TEST(ValidateShowLoadingAnimationTest, ChecksChatAndSeconds) {
  auto request = ForBinding<v1::ShowLoadingAnimationRequest>();
  request.set_chat_id(kUser);
  for (int seconds : {0, 5, 20, 55, 60}) {
    request.set_loading_seconds(seconds);
    EXPECT_TRUE(ValidateShowLoadingAnimation(request).ok()) << seconds;
  }
  for (int seconds : {-5, 1, 4, 7, 61, 65}) {
    request.set_loading_seconds(seconds);
    EXPECT_THAT(Fields(ValidateShowLoadingAnimation(request)), ElementsAre("loading_seconds"))
        << seconds;
  }
  request.set_chat_id(kGroup);  // The animation shows in one-to-one chats only.
  EXPECT_THAT(Fields(ValidateShowLoadingAnimation(request)),
              ElementsAre("chat_id", "loading_seconds"));
  EXPECT_THAT(Fields(ValidateShowLoadingAnimation(v1::ShowLoadingAnimationRequest())),
              ElementsAre("team_id", "channel_id", "chat_id"));
}

}  // namespace
}  // namespace linechannel::server
