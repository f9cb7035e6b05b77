#include "server/base/json_writer.h"

#include <string>

#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/support/json_field.h"

namespace linechannel::server {
namespace {

using ::linechannel::testing::JsonField;

bool IsValidJson(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return parser.parse(text).get(doc) == simdjson::SUCCESS;
}

TEST(JsonStringTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonString("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonString("line\nnext\ttab"), R"("line\nnext\u0009tab")");
  EXPECT_EQ(JsonString(absl::string_view("nul\0end", 7)), R"("nul\u0000end")");
  EXPECT_EQ(JsonString("\x7f"), R"("\u007f")");
}

TEST(JsonStringTest, KeepsUtf8AndReplacesWhatIsNotUtf8) {
  EXPECT_EQ(JsonString("日本 🙂"), "\"日本 🙂\"");
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(JsonString("a\xFFz"), "\"a" + replacement + "z\"") << "stray byte";
  EXPECT_EQ(JsonString("\xC0\xAF"), "\"" + replacement + replacement + "\"") << "overlong";
  EXPECT_EQ(JsonString("\xED\xA0\x80"), "\"" + replacement + replacement + replacement + "\"")
      << "surrogate";
  EXPECT_EQ(JsonString("\xE6\x97"), "\"" + replacement + replacement + "\"") << "truncated";
  EXPECT_EQ(JsonString("\xF4\x90\x80\x80").substr(0, 4), "\"" + replacement) << "> U+10FFFF";
}

TEST(JsonStringTest, AnyBytesGiveValidJson) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (int rotation = 0; rotation < 256; rotation += 7) {
    const std::string text = JsonString(all.substr(rotation) + all.substr(0, rotation));
    ASSERT_TRUE(IsValidJson(text)) << rotation;
  }
}

TEST(JsonObjectWriterTest, WritesMembersInOrder) {
  const std::string text = JsonObjectWriter()
                               .String("format", "x/1")
                               .Int("n", -2)
                               .Bool("on", true)
                               .Raw("list", "[1,2]")
                               .String("odd \"key\"", "a\nb")
                               .Finish();
  EXPECT_EQ(text, R"({"format":"x/1","n":-2,"on":true,"list":[1,2],"odd \"key\"":"a\nb"})");
  ASSERT_TRUE(IsValidJson(text)) << text;
  EXPECT_EQ(JsonField(text, "/list/1"), "2");
}

TEST(JsonObjectWriterTest, AnEmptyObjectIsValid) { EXPECT_EQ(JsonObjectWriter().Finish(), "{}"); }

}  // namespace
}  // namespace linechannel::server
