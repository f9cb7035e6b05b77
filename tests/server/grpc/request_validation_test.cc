#include "server/binding/line_id.h"
#include "server/grpc/request_validation.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "gtest/gtest.h"
#include "server/base/errors.h"

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
}

TEST(NormalizeLineIdTest, DropsTheAtAndLowerCases) {
  EXPECT_EQ(NormalizeLineId("@123AbCdE"), "123abcde");
  EXPECT_EQ(NormalizeLineId("premium"), "premium");
}

}  // namespace
}  // namespace linechannel::server
