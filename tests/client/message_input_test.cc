#include "client/message_input.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linechannel::client {
namespace {

using ::testing::ElementsAre;

TEST(JsonStringTest, EscapesQuotesBackslashesAndControlsAndKeepsUtf8) {
  EXPECT_EQ(*JsonString("a\"b\\c\nd\te\x01"), R"("a\"b\\c\nd\te\u0001")");
  EXPECT_EQ(*JsonString("こんにちは 😀"), "\"こんにちは 😀\"");
  EXPECT_EQ(*JsonString(""), "\"\"");
}

TEST(JsonStringTest, RefusesInvalidUtf8) {
  EXPECT_FALSE(JsonString("\xff").ok());
  EXPECT_FALSE(JsonString("\xc3").ok());              // Cut short.
  EXPECT_FALSE(JsonString("\xc0\xaf").ok());          // Overlong.
  EXPECT_FALSE(JsonString("\xed\xa0\x80").ok());      // A surrogate.
  EXPECT_FALSE(JsonString("\xf4\x90\x80\x80").ok());  // Past U+10FFFF.
}

TEST(TextMessagesTest, OneTextMessagePerText) {
  EXPECT_THAT(
      *TextMessages({"hi, there", "😀"}),
      ElementsAre(R"({"type":"text","text":"hi, there"})", "{\"type\":\"text\",\"text\":\"😀\"}"));
  const absl::Status bad = TextMessages({"ok", "\xff"}).status();
  EXPECT_THAT(std::string(bad.message()), ::testing::HasSubstr("--text number 2"));
}

TEST(MessagesFromJsonTest, OneObjectIsSentAsWritten) {
  EXPECT_THAT(*MessagesFromJson(" {\"type\":\"text\", \"text\":\"x\"}\n"),
              ElementsAre("{\"type\":\"text\", \"text\":\"x\"}"));
}

TEST(MessagesFromJsonTest, EachArrayElementIsItsOwnMessageByteForByte) {
  const std::string content =
      R"([ {"type":"text","text":"a ] } \" [ {"} ,
           {"type":"sticker","packageId":"446","n":12345678901234567890,"o":{"p":[1,{}]}} ])";
  EXPECT_THAT(
      *MessagesFromJson(content),
      ElementsAre(
          R"({"type":"text","text":"a ] } \" [ {"})",
          R"({"type":"sticker","packageId":"446","n":12345678901234567890,"o":{"p":[1,{}]}})"));
}

TEST(MessagesFromJsonTest, RefusesWhatIsNotJsonOrNotMessages) {
  EXPECT_FALSE(MessagesFromJson("{\"type\":").ok());
  EXPECT_FALSE(MessagesFromJson("\"text\"").ok());
  EXPECT_FALSE(MessagesFromJson("[{\"type\":\"text\"}, 3]").ok());
  EXPECT_FALSE(MessagesFromJson("").ok());
}

}  // namespace
}  // namespace linechannel::client
