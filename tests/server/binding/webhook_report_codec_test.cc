#include "server/binding/webhook_report_codec.h"

#include <string>

#include "gtest/gtest.h"
// Only to write a record as servers before the JSON format did.
#include "linechannel/v1/channel_service.pb.h"
#include "tests/support/json_field.h"

namespace linechannel::server {
namespace {

using ::linechannel::testing::JsonField;

WebhookReport FullReport() {
  WebhookReport report;
  report.verdict = Verdict::kActionNeeded;
  report.summary = "One thing needs fixing: \"Use webhook\" is off.";
  report.checked_at = absl::FromUnixMicros(1'800'000'000'123'456);
  report.last_signed_request = absl::FromUnixMicros(1'799'999'000'000'001);
  report.chat_mode = LineChatMode::kChat;
  report.mark_as_read_mode = LineMarkAsReadMode::kManual;
  report.checks = {
      {CheckKind::kAccessTokenValid, CheckResult::kPass, "The access token works.",
       "client_id=1656000001", ""},
      {CheckKind::kWebhookEnabled, CheckResult::kFail, "\"Use webhook\" is off.", "active=false",
       "Turn it on.\nThen reload."},
      {CheckKind::kRecentTraffic, CheckResult::kWarning, "日本語 and a \\ backslash", "", ""},
      {CheckKind::kSignatureVerified, CheckResult::kSkipped, "", "", ""},
  };
  return report;
}

void ExpectSameFindings(const WebhookReport& got, const WebhookReport& want) {
  EXPECT_EQ(got.verdict, want.verdict);
  EXPECT_EQ(got.summary, want.summary);
  EXPECT_EQ(got.checked_at, want.checked_at);
  EXPECT_EQ(got.last_signed_request, want.last_signed_request);
  EXPECT_EQ(got.last_bad_signature, want.last_bad_signature);
  EXPECT_EQ(got.chat_mode, want.chat_mode);
  EXPECT_EQ(got.mark_as_read_mode, want.mark_as_read_mode);
  ASSERT_EQ(got.checks.size(), want.checks.size());
  for (size_t i = 0; i < want.checks.size(); ++i) {
    EXPECT_EQ(got.checks[i].kind, want.checks[i].kind) << i;
    EXPECT_EQ(got.checks[i].result, want.checks[i].result) << i;
    EXPECT_EQ(got.checks[i].summary, want.checks[i].summary) << i;
    EXPECT_EQ(got.checks[i].evidence, want.checks[i].evidence) << i;
    EXPECT_EQ(got.checks[i].next_step, want.checks[i].next_step) << i;
  }
}

TEST(WebhookReportCodecTest, ARecordIsVersionedJson) {
  const std::string text = EncodeWebhookReport(FullReport());
  EXPECT_EQ(JsonField(text, "/format"), "webhook_report/1");
  EXPECT_EQ(JsonField(text, "/verdict"), "ACTION_NEEDED");
  EXPECT_EQ(JsonField(text, "/checked_at_us"), "1800000000123456");
  EXPECT_EQ(JsonField(text, "/checks/1/kind"), "WEBHOOK_ENABLED");
  EXPECT_EQ(JsonField(text, "/checks/1/result"), "FAIL");
  EXPECT_EQ(JsonField(text, "/last_bad_signature_us"), "") << "unset times are left out";
  EXPECT_EQ(JsonField(text, "/chat_mode"), "CHAT");
  EXPECT_EQ(JsonField(text, "/mark_as_read_mode"), "MANUAL");
  EXPECT_EQ(JsonField(EncodeWebhookReport(WebhookReport()), "/chat_mode"), "")
      << "unknown modes are left out";
}

TEST(WebhookReportCodecTest, ARecordFromBeforeTheResponseSettingsCheckStillReads) {
  // Exactly what servers wrote before the chat modes and RESPONSE_SETTINGS were added.
  const std::string old_record =
      R"({"format":"webhook_report/1","verdict":"OK","summary":"All good.",)"
      R"("checked_at_us":1800000000000000,"last_signed_request_us":1799999999000000,)"
      R"("checks":[{"kind":"ACCESS_TOKEN_VALID","result":"PASS","summary":"The access token )"
      R"(works.","evidence":"client_id=1656000001","next_step":""}]})";
  std::optional<WebhookReport> decoded = DecodeWebhookReport(old_record);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->summary, "All good.");
  EXPECT_EQ(decoded->chat_mode, LineChatMode::kUnknown);
  EXPECT_EQ(decoded->mark_as_read_mode, LineMarkAsReadMode::kUnknown);
  ASSERT_EQ(decoded->checks.size(), 1u);
  EXPECT_EQ(decoded->checks[0].kind, CheckKind::kAccessTokenValid);
}

TEST(WebhookReportCodecTest, EveryFindingSurvivesARoundTrip) {
  const WebhookReport report = FullReport();
  std::optional<WebhookReport> decoded = DecodeWebhookReport(EncodeWebhookReport(report));
  ASSERT_TRUE(decoded.has_value());
  ExpectSameFindings(*decoded, report);

  WebhookReport every_value;
  every_value.verdict = Verdict::kLineUnavailable;
  every_value.last_bad_signature = absl::FromUnixSeconds(5);
  for (CheckKind kind :
       {CheckKind::kAccessTokenValid, CheckKind::kWebhookUrlMatches, CheckKind::kWebhookEnabled,
        CheckKind::kLineTestDelivered, CheckKind::kSignatureVerified, CheckKind::kRecentTraffic,
        CheckKind::kResponseSettings}) {
    for (CheckResult result :
         {CheckResult::kPass, CheckResult::kFail, CheckResult::kSkipped, CheckResult::kWarning}) {
      every_value.checks.push_back({kind, result, "s", "e", "n"});
    }
  }
  decoded = DecodeWebhookReport(EncodeWebhookReport(every_value));
  ASSERT_TRUE(decoded.has_value());
  ExpectSameFindings(*decoded, every_value);
  every_value.chat_mode = LineChatMode::kBot;
  every_value.mark_as_read_mode = LineMarkAsReadMode::kAuto;
  decoded = DecodeWebhookReport(EncodeWebhookReport(every_value));
  ASSERT_TRUE(decoded.has_value());
  ExpectSameFindings(*decoded, every_value);

  decoded = DecodeWebhookReport(EncodeWebhookReport(WebhookReport()));
  ASSERT_TRUE(decoded.has_value());
  ExpectSameFindings(*decoded, WebhookReport());
}

TEST(WebhookReportCodecTest, TheAnswersOwnFieldsAreNotStored) {
  WebhookReport report = FullReport();
  report.from_cache = true;
  report.result_age = absl::Minutes(5);
  std::optional<WebhookReport> decoded = DecodeWebhookReport(EncodeWebhookReport(report));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_FALSE(decoded->from_cache);
  EXPECT_EQ(decoded->result_age, absl::ZeroDuration());
}

TEST(WebhookReportCodecTest, AnOlderServersProtobufRecordReadsAsNone) {
  v1::VerifyWebhookResponse old;
  old.set_verdict(v1::OK);
  old.set_summary("LINE's webhooks reach this binding and verify.");
  v1::WebhookCheck* check = old.add_checks();
  check->set_kind(v1::ACCESS_TOKEN_VALID);
  check->set_result(v1::PASS);
  check->set_summary("The access token works.");
  old.mutable_checked_time()->set_seconds(1'800'000'000);
  EXPECT_FALSE(DecodeWebhookReport(old.SerializeAsString()).has_value());
  EXPECT_FALSE(DecodeWebhookReport(v1::VerifyWebhookResponse().SerializeAsString()).has_value());
}

TEST(WebhookReportCodecTest, GarbageAndOtherFormatsReadAsNone) {
  const std::string good = EncodeWebhookReport(FullReport());
  for (const std::string& text : {
           std::string(""),
           std::string("not json"),
           std::string("[]"),
           std::string("{}"),
           std::string("\xFF\xFE{"),
           good.substr(0, good.size() / 2),
           std::string(R"({"format":"webhook_report/2","verdict":"OK","summary":"",)"
                       R"("checked_at_us":0,"checks":[]})"),
           std::string(R"({"verdict":"OK","summary":"","checked_at_us":0,"checks":[]})"),
           std::string(R"({"format":"webhook_report/1","verdict":"MAYBE","summary":"",)"
                       R"("checked_at_us":0,"checks":[]})"),
           std::string(R"({"format":"webhook_report/1","verdict":"OK","summary":"",)"
                       R"("checked_at_us":"yesterday","checks":[]})"),
           std::string(R"({"format":"webhook_report/1","verdict":"OK","summary":"",)"
                       R"("checked_at_us":0,"last_signed_request_us":"x","checks":[]})"),
           std::string(R"({"format":"webhook_report/1","verdict":"OK","summary":"",)"
                       R"("checked_at_us":0,"checks":[{"kind":"NEW_KIND","result":"PASS",)"
                       R"("summary":"","evidence":"","next_step":""}]})"),
           std::string(R"({"format":"webhook_report/1","verdict":"OK","summary":"",)"
                       R"("checked_at_us":0,"checks":[7]})"),
           std::string(R"({"format":"webhook_report/1","verdict":"OK","summary":"",)"
                       R"("checked_at_us":0,"chat_mode":"HYBRID","checks":[]})"),
       }) {
    EXPECT_FALSE(DecodeWebhookReport(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace linechannel::server
