#include "server/base/logger.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/server/base/captured_log.h"
#include "tests/support/json_field.h"

namespace linechannel::server {
namespace {

using ::linechannel::testing::JsonField;

bool IsValidJson(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return parser.parse(text).get(doc) == simdjson::SUCCESS;
}

TEST(LoggerTest, WritesOneJsonObjectPerLineStartingWithTsLevelAndEvent) {
  CapturedLog log;
  LogLine(LogLevel::kWarning, "rpc")
      .With("method", "BindChannel")
      .With("count", int64_t{9007199254740993})
      .With("latency_ms", 12.5)
      .With("ok", false)
      .With("took", absl::Milliseconds(250))
      .WithStatus(absl::NotFoundError("no binding"));
  const std::string text = log.Text();
  ASSERT_EQ(text.back(), '\n');
  ASSERT_EQ(text.find('\n'), text.size() - 1) << "one line";
  const std::string line = text.substr(0, text.size() - 1);
  ASSERT_TRUE(IsValidJson(line)) << line;
  EXPECT_EQ(line.rfind("{\"ts\":\"", 0), 0u) << line;
  EXPECT_LT(line.find("\"level\":\"warning\""), line.find("\"event\":\"rpc\""));
  EXPECT_EQ(JsonField(line, "/method"), "BindChannel");
  EXPECT_EQ(JsonField(line, "/count"), "9007199254740993") << "integers are exact";
  EXPECT_EQ(JsonField(line, "/latency_ms"), "12.5");
  EXPECT_EQ(JsonField(line, "/ok"), "false");
  EXPECT_EQ(JsonField(line, "/took"), "250");
  EXPECT_EQ(JsonField(line, "/code"), "NOT_FOUND");
  EXPECT_EQ(JsonField(line, "/error"), "no binding");
}

TEST(LoggerTest, OkStatusAddsNothing) {
  CapturedLog log;
  LogLine(LogLevel::kInfo, "x").WithStatus(absl::OkStatus());
  EXPECT_EQ(log.Text().find("\"code\""), std::string::npos);
}

TEST(LoggerTest, ARepeatedKeyKeepsItsPlaceAndTakesTheLastValue) {
  CapturedLog log;
  LogLine(LogLevel::kInfo, "x").With("a", 1).With("b", 2).With("a", "three");
  const std::string text = log.Text();
  EXPECT_NE(text.find("\"a\":\"three\",\"b\":2"), std::string::npos) << text;
}

TEST(LoggerTest, TsIsTheUtcTimeInMilliseconds) {
  CapturedLog log;
  // The fixed-width format sorts as the times do.
  const auto format = [](absl::Time t) {
    return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
  };
  const std::string before = format(absl::Now());
  LogLine(LogLevel::kInfo, "x");
  LogLine(LogLevel::kInfo, "y");
  const std::string after = format(absl::Now());
  const std::vector<std::string> lines = absl::StrSplit(log.Text(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  for (const std::string& line : lines) {
    const std::string ts = JsonField(line, "/ts");
    ASSERT_EQ(ts.size(), before.size()) << ts;
    EXPECT_EQ(ts[10], 'T');
    EXPECT_EQ(ts[19], '.');
    EXPECT_EQ(ts.back(), 'Z');
    EXPECT_LE(before, ts);
    EXPECT_LE(ts, after);
  }
}

TEST(LoggerTest, KeysAndValuesAreEscaped) {
  CapturedLog log;
  LogLine(LogLevel::kInfo, "x")
      .With("quote\"key", "a\"b\\c\nd\x01 \xC3\xA9 \xFF")
      .With("quote\"key", "again")
      .With("after", 1);
  const std::string text = log.Text();
  ASSERT_TRUE(IsValidJson(text.substr(0, text.size() - 1))) << text;
  EXPECT_NE(text.find("\"quote\\\"key\":\"again\",\"after\":1}"), std::string::npos) << text;
}

TEST(LoggerTest, NonFiniteNumbersBecomeNull) {
  CapturedLog log;
  LogLine(LogLevel::kInfo, "x")
      .With("nan", std::numeric_limits<double>::quiet_NaN())
      .With("inf", std::numeric_limits<double>::infinity());
  const std::string text = log.Text();
  ASSERT_TRUE(IsValidJson(text)) << text;
  EXPECT_EQ(JsonField(text, "/nan"), "null");
  EXPECT_EQ(JsonField(text, "/inf"), "null");
}

}  // namespace
}  // namespace linechannel::server
