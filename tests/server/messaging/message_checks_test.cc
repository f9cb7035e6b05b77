#include "server/messaging/message_checks.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linechannel::server {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::vector<std::string> Fields(const std::vector<FieldViolation>& violations) {
  std::vector<std::string> fields;
  for (const FieldViolation& v : violations) fields.push_back(v.field);
  return fields;
}

std::string Repeat(const std::string& piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

std::string Text(const std::string& text) { return R"({"type":"text","text":")" + text + R"("})"; }

const char kEmoji[] = "\xF0\x9F\x98\x80";  // U+1F600, two UTF-16 code units.
const char kImage[] =
    R"({"type":"image","originalContentUrl":"https://example.com/a.jpg","previewImageUrl":"https://example.com/p.jpg"})";

// --- Every type LINE knows, in a valid form. ---

class ValidMessageTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ValidMessageTest, IsAccepted) {
  EXPECT_THAT(CheckMessages({GetParam()}), IsEmpty()) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(
    EveryType, ValidMessageTest,
    ::testing::Values(
        R"({"type":"text","text":"Thanks! An agent will answer shortly."})",
        R"({"type":"text","text":"hi $","emojis":[{"index":3,"productId":"p","emojiId":"001"}],"quoteToken":"q"})",
        R"({"type":"textV2","text":"Hi {user}! {smile}","substitution":{"user":{"type":"mention","mentionee":{"type":"user","userId":"U0123456789abcdef0123456789abcdef"}},"smile":{"type":"emoji","productId":"p","emojiId":"001"},"all":{"type":"mention","mentionee":{"type":"all"}}}})",
        R"({"type":"textV2","text":"no placeholders"})",
        R"({"type":"sticker","packageId":"446","stickerId":"1988"})", kImage,
        R"({"type":"video","originalContentUrl":"https://example.com/v.mp4","previewImageUrl":"https://example.com/v.jpg","trackingId":"track-1"})",
        R"({"type":"audio","originalContentUrl":"https://example.com/a.m4a","duration":60000})",
        R"({"type":"location","title":"Office","address":"1-3 Kioicho, Tokyo","latitude":35.68,"longitude":139.73})",
        R"({"type":"imagemap","baseUrl":"https://example.com/map","altText":"a map","baseSize":{"width":1040,"height":1040},"actions":[{"type":"uri","linkUri":"https://example.com","area":{"x":0,"y":0,"width":520,"height":1040}},{"type":"message","text":"hi","area":{"x":520,"y":0,"width":520,"height":1040}},{"type":"clipboard","clipboardText":"c","area":{"x":0,"y":0,"width":1,"height":1}}]})",
        R"({"type":"template","altText":"menu","template":{"type":"buttons","text":"Choose","actions":[{"type":"message","label":"Yes","text":"yes"}]}})",
        R"({"type":"template","altText":"sure?","template":{"type":"confirm","text":"Sure?","actions":[{"type":"message","label":"Yes","text":"yes"},{"type":"message","label":"No","text":"no"}]}})",
        R"({"type":"template","altText":"c","template":{"type":"carousel","columns":[{"text":"one","actions":[{"type":"postback","data":"1"}]},{"text":"two","actions":[{"type":"postback","data":"2"}]}]}})",
        R"({"type":"template","altText":"c","template":{"type":"image_carousel","columns":[{"imageUrl":"https://example.com/1.jpg","action":{"type":"uri","uri":"https://example.com"}}]}})",
        R"({"type":"flex","altText":"card","contents":{"type":"bubble","body":{"type":"box","layout":"vertical","contents":[]}}})",
        R"({"type":"flex","altText":"cards","contents":{"type":"carousel","contents":[{"type":"bubble"},{"type":"bubble"}]}})",
        R"({"type":"coupon","couponId":"c-1","deliveryTag":"spring"})",
        R"( {"type":"text","text":"whitespace around is fine"} )",
        R"({"type":"text","text":"with extras","quickReply":{"items":[{"type":"action","action":{"type":"message","label":"a","text":"a"}}]},"sender":{"name":"Agent Aiko","iconUrl":"https://example.com/i.png"}})"));

// --- Each rule broken once: the one field named. ---

struct BadCase {
  const char* name;
  std::string message;
  std::vector<std::string> fields;  // Besides the "messages[0]" prefix.
};

class BadMessageTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadMessageTest, NamesTheField) {
  std::vector<std::string> expected;
  for (const std::string& f : GetParam().fields) expected.push_back("messages[0]" + f);
  const std::vector<FieldViolation> violations = CheckMessages({GetParam().message});
  EXPECT_THAT(Fields(violations), ElementsAreArray(expected)) << GetParam().message;
  for (const FieldViolation& v : violations) EXPECT_THAT(v.description, Not(IsEmpty()));
}

const std::string kLongUrl = "https://example.com/" + std::string(1981, 'a');  // 2,001 bytes.

INSTANTIATE_TEST_SUITE_P(
    EachRule, BadMessageTest,
    ::testing::Values(
        BadCase{"NotJson", "hello", {""}}, BadCase{"Empty", "", {""}},
        BadCase{"TrailingGarbage", Text("hi") + " x", {""}},
        BadCase{"TwoObjects", Text("a") + Text("b"), {""}},
        BadCase{"Truncated", R"({"type":"text","text":"hi")", {""}},
        BadCase{"ArrayOfMessages", "[" + Text("hi") + "]", {""}},
        BadCase{"String", R"("hello")", {""}}, BadCase{"Number", "5", {""}},
        BadCase{"NoType", R"({"text":"hi"})", {".type"}},
        BadCase{"UnknownType", R"({"type":"txt","text":"hi"})", {".type"}},
        BadCase{"TypeNotString", R"({"type":1})", {".type"}},
        BadCase{"TextMissing", R"({"type":"text"})", {".text"}},
        BadCase{"TextEmpty", Text(""), {".text"}},
        BadCase{"TextNotString", R"({"type":"text","text":5})", {".text"}},
        BadCase{"TextTooLong", Text(std::string(5001, 'a')), {".text"}},
        BadCase{"TextV2Missing", R"({"type":"textV2"})", {".text"}},
        BadCase{"TextV2TooLong",
                R"({"type":"textV2","text":")" + std::string(5001, 'a') + "\"}",
                {".text"}},
        BadCase{"SubstitutionNotObject",
                R"({"type":"textV2","text":"{a}","substitution":[]})",
                {".substitution"}},
        BadCase{"SubstitutionEntryNotObject",
                R"({"type":"textV2","text":"{a}","substitution":{"a":"x"}})",
                {".substitution.a"}},
        BadCase{"SubstitutionNoType",
                R"({"type":"textV2","text":"{a}","substitution":{"a":{}}})",
                {".substitution.a.type"}},
        BadCase{"SubstitutionUnknownType",
                R"({"type":"textV2","text":"{a}","substitution":{"a":{"type":"link"}}})",
                {".substitution.a.type"}},
        BadCase{"EmojiWithoutIds",
                R"({"type":"textV2","text":"{a}","substitution":{"a":{"type":"emoji"}}})",
                {".substitution.a.productId", ".substitution.a.emojiId"}},
        BadCase{"MentionWithoutMentionee",
                R"({"type":"textV2","text":"{a}","substitution":{"a":{"type":"mention"}}})",
                {".substitution.a.mentionee"}},
        BadCase{
            "MentioneeUnknownType",
            R"({"type":"textV2","text":"{a}","substitution":{"a":{"type":"mention","mentionee":{"type":"bot"}}}})",
            {".substitution.a.mentionee.type"}},
        BadCase{
            "UserMentionWithoutUserId",
            R"({"type":"textV2","text":"{a}","substitution":{"a":{"type":"mention","mentionee":{"type":"user"}}}})",
            {".substitution.a.mentionee.userId"}},
        BadCase{"OddSubstitutionKeyIsNotNamed",
                R"({"type":"textV2","text":"{a b}","substitution":{"a b":{"type":"x"}}})",
                {".substitution.type"}},
        BadCase{"StickerWithoutIds", R"({"type":"sticker"})", {".packageId", ".stickerId"}},
        BadCase{"StickerIdsNotStrings",
                R"({"type":"sticker","packageId":446,"stickerId":1})",
                {".packageId", ".stickerId"}},
        BadCase{
            "ImageWithoutUrls", R"({"type":"image"})", {".originalContentUrl", ".previewImageUrl"}},
        BadCase{
            "ImageHttp",
            R"({"type":"image","originalContentUrl":"http://example.com/a.jpg","previewImageUrl":"https://example.com/p.jpg"})",
            {".originalContentUrl"}},
        BadCase{
            "ImageUrlWithoutHost",
            R"({"type":"image","originalContentUrl":"https:///a.jpg","previewImageUrl":"https://"})",
            {".originalContentUrl", ".previewImageUrl"}},
        BadCase{
            "ImageUrlWithSpace",
            R"({"type":"image","originalContentUrl":"https://example.com/a b.jpg","previewImageUrl":"https://example.com/p.jpg"})",
            {".originalContentUrl"}},
        BadCase{"ImageUrlTooLong",
                R"({"type":"image","originalContentUrl":")" + kLongUrl +
                    R"(","previewImageUrl":"https://example.com/p.jpg"})",
                {".originalContentUrl"}},
        BadCase{
            "ImageUrlNotString",
            R"({"type":"image","originalContentUrl":{},"previewImageUrl":"https://example.com/p.jpg"})",
            {".originalContentUrl"}},
        BadCase{"VideoWithoutPreview",
                R"({"type":"video","originalContentUrl":"https://example.com/v.mp4"})",
                {".previewImageUrl"}},
        BadCase{
            "VideoTrackingIdNotString",
            R"({"type":"video","originalContentUrl":"https://example.com/v.mp4","previewImageUrl":"https://example.com/v.jpg","trackingId":7})",
            {".trackingId"}},
        BadCase{"AudioWithoutDuration",
                R"({"type":"audio","originalContentUrl":"https://example.com/a.m4a"})",
                {".duration"}},
        BadCase{
            "AudioDurationString",
            R"({"type":"audio","originalContentUrl":"https://example.com/a.m4a","duration":"60000"})",
            {".duration"}},
        BadCase{
            "AudioDurationFraction",
            R"({"type":"audio","originalContentUrl":"https://example.com/a.m4a","duration":1.5})",
            {".duration"}},
        BadCase{"AudioDurationNegative",
                R"({"type":"audio","originalContentUrl":"ftp://example.com/a.m4a","duration":-1})",
                {".originalContentUrl", ".duration"}},
        BadCase{"LocationEmpty",
                R"({"type":"location"})",
                {".title", ".address", ".latitude", ".longitude"}},
        BadCase{"LocationAddressTooLong",
                R"({"type":"location","title":"t","address":")" + std::string(101, 'a') +
                    R"(","latitude":0,"longitude":0})",
                {".address"}},
        BadCase{"LocationTitleTooLong",
                R"({"type":"location","title":")" + std::string(101, 'a') +
                    R"(","address":"a","latitude":0,"longitude":0})",
                {".title"}},
        BadCase{
            "LocationCoordinatesNotNumbers",
            R"({"type":"location","title":"t","address":"a","latitude":"35.6","longitude":200})",
            {".latitude", ".longitude"}},
        BadCase{"ImagemapEmpty",
                R"({"type":"imagemap"})",
                {".baseUrl", ".altText", ".baseSize", ".actions"}},
        BadCase{
            "ImagemapBaseSizeWithoutHeight",
            R"({"type":"imagemap","baseUrl":"https://example.com/m","altText":"m","baseSize":{"width":1040},"actions":[{"type":"message","text":"a","area":{"x":0,"y":0,"width":1,"height":1}}]})",
            {".baseSize.height"}},
        BadCase{
            "ImagemapActionsNotArray",
            R"({"type":"imagemap","baseUrl":"https://example.com/m","altText":"m","baseSize":{"width":1040,"height":1040},"actions":{}})",
            {".actions"}},
        BadCase{
            "ImagemapBadAction",
            R"({"type":"imagemap","baseUrl":"https://example.com/m","altText":"m","baseSize":{"width":1040,"height":1040},"actions":[{"type":"uri","area":{"x":0,"y":0,"width":1}},5]})",
            {".actions[0].area.height", ".actions[0].linkUri", ".actions[1]"}},
        BadCase{"TemplateEmpty", R"({"type":"template"})", {".altText", ".template"}},
        BadCase{"TemplateAltTextTooLong",
                R"({"type":"template","altText":")" + std::string(401, 'a') +
                    R"(","template":{"type":"confirm","text":"?","actions":[{},{}]}})",
                {".altText"}},
        BadCase{"TemplateUnknownType",
                R"({"type":"template","altText":"a","template":{"type":"list"}})",
                {".template.type"}},
        BadCase{"TemplateNotObject",
                R"({"type":"template","altText":"a","template":"buttons"})",
                {".template"}},
        BadCase{"ButtonsWithoutTextAndActions",
                R"({"type":"template","altText":"a","template":{"type":"buttons"}})",
                {".template.text", ".template.actions"}},
        BadCase{
            "ButtonsTooManyActions",
            R"({"type":"template","altText":"a","template":{"type":"buttons","text":"t","actions":[{},{},{},{},{}]}})",
            {".template.actions"}},
        BadCase{
            "ConfirmOneAction",
            R"({"type":"template","altText":"a","template":{"type":"confirm","text":"t","actions":[{}]}})",
            {".template.actions"}},
        BadCase{
            "CarouselBadColumn",
            R"({"type":"template","altText":"a","template":{"type":"carousel","columns":[{"text":"t","actions":[{}]},{"actions":[]}]}})",
            {".template.columns[1].text", ".template.columns[1].actions"}},
        BadCase{
            "ImageCarouselBadColumn",
            R"({"type":"template","altText":"a","template":{"type":"image_carousel","columns":[{"imageUrl":"http://example.com/1.jpg"}]}})",
            {".template.columns[0].imageUrl", ".template.columns[0].action"}},
        BadCase{"CarouselNoColumns",
                R"({"type":"template","altText":"a","template":{"type":"carousel","columns":[]}})",
                {".template.columns"}},
        BadCase{"FlexEmpty", R"({"type":"flex"})", {".altText", ".contents"}},
        BadCase{"FlexAltTextTooLong",
                R"({"type":"flex","altText":")" + std::string(401, 'a') +
                    R"(","contents":{"type":"bubble"}})",
                {".altText"}},
        BadCase{"FlexUnknownContainer",
                R"({"type":"flex","altText":"a","contents":{"type":"box"}})",
                {".contents.type"}},
        BadCase{"FlexCarouselWithoutBubbles",
                R"({"type":"flex","altText":"a","contents":{"type":"carousel"}})",
                {".contents.contents"}},
        BadCase{
            "FlexCarouselOfNonBubbles",
            R"({"type":"flex","altText":"a","contents":{"type":"carousel","contents":[{"type":"box"}]}})",
            {".contents.contents[0].type"}},
        BadCase{"CouponWithoutId", R"({"type":"coupon"})", {".couponId"}},
        BadCase{
            "QuickReplyNotObject", Text("hi").insert(1, R"("quickReply":[],)"), {".quickReply"}},
        BadCase{"QuickReplyFourteenItems",
                Text("hi").insert(1, R"("quickReply":{"items":[)" +
                                         Repeat(R"({"type":"action"},)", 13) +
                                         R"({"type":"action"}]},)"),
                {".quickReply.items"}},
        BadCase{"SenderNameTooLong",
                Text("hi").insert(1, R"("sender":{"name":")" + std::string(21, 'a') + R"("},)"),
                {".sender.name"}},
        BadCase{"SenderIconHttp",
                Text("hi").insert(1, R"("sender":{"iconUrl":"http://example.com/i.png"},)"),
                {".sender.iconUrl"}}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(CheckMessagesTest, ThirteenQuickRepliesAndATwentyCharacterSenderAreFine) {
  std::string message = Text("hi").insert(
      1, R"("quickReply":{"items":[)" + Repeat(R"({"type":"action"},)", 12) +
             R"({"type":"action"}]},"sender":{"name":")" + Repeat(kEmoji, 10) + R"("},)");
  EXPECT_THAT(CheckMessages({message}), IsEmpty());
}

// --- UTF-16 counting, as LINE counts. ---

TEST(CheckMessagesTest, CountsTextInUtf16CodeUnits) {
  EXPECT_THAT(CheckMessages({Text(std::string(5000, 'a'))}), IsEmpty());
  EXPECT_THAT(CheckMessages({Text(Repeat("\xE3\x81\x82", 5000))}), IsEmpty());  // 5000 x "あ"
  EXPECT_THAT(CheckMessages({Text(Repeat(kEmoji, 2500))}), IsEmpty());
  // Escaped surrogate pairs count the same as raw UTF-8.
  EXPECT_THAT(CheckMessages({Text(Repeat(R"(\ud83d\ude00)", 2500))}), IsEmpty());

  const std::vector<FieldViolation> emoji = CheckMessages({Text(Repeat(kEmoji, 5000))});
  ASSERT_THAT(Fields(emoji), ElementsAre("messages[0].text"));
  EXPECT_THAT(emoji[0].description, HasSubstr("10000"));
  EXPECT_THAT(Fields(CheckMessages({Text(Repeat(kEmoji, 2500) + "a")})),
              ElementsAre("messages[0].text"));
  EXPECT_THAT(Fields(CheckMessages({Text(Repeat(R"(\ud83d\ude00)", 2501))})),
              ElementsAre("messages[0].text"));
}

// --- The count, and several problems at once. ---

TEST(CheckMessagesTest, NeedsOneToFiveMessages) {
  const std::vector<FieldViolation> none = CheckMessages({});
  ASSERT_THAT(Fields(none), ElementsAre("messages"));
  EXPECT_THAT(none[0].description, HasSubstr("1 to 5"));
  EXPECT_THAT(CheckMessages(std::vector<std::string>(5, Text("hi"))), IsEmpty());
  EXPECT_THAT(Fields(CheckMessages(std::vector<std::string>(6, Text("hi")))),
              ElementsAre("messages"));
  EXPECT_THAT(Fields(CheckMessages({}, "reply.messages")), ElementsAre("reply.messages"));
}

TEST(CheckMessagesTest, ReportsEveryBadElementAtOnce) {
  const std::vector<std::string> messages = {
      Text("fine"), "{not json", Text(""), R"({"type":"image"})", "[]", kImage,
  };
  EXPECT_THAT(
      Fields(CheckMessages(messages)),
      ElementsAre("messages", "messages[1]", "messages[2].text", "messages[3].originalContentUrl",
                  "messages[3].previewImageUrl", "messages[4]"));
  EXPECT_THAT(Fields(CheckMessages({"x", "y"}, "items")), ElementsAre("items[0]", "items[1]"));
}

TEST(CheckMessagesTest, NeverQuotesWhatTheCallerWrote) {
  const std::string secret = "SECRETxyz";
  const std::vector<std::string> messages = {
      Text(secret + std::string(5000, 'a')),
      R"({"type":"SECRETxyz"})",
      R"({"type":"image","originalContentUrl":"http://SECRETxyz","previewImageUrl":"SECRETxyz"})",
      R"({"type":"text","text":"SECRETxyz"} SECRETxyz)",
      R"({"type":"textV2","text":"{SECRETxyz !}","substitution":{"SECRETxyz !":{}}})",
  };
  const std::vector<FieldViolation> violations = CheckMessages(messages);
  EXPECT_EQ(violations.size(), 6u);
  for (const FieldViolation& v : violations) {
    EXPECT_THAT(v.field, Not(HasSubstr(secret)));
    EXPECT_THAT(v.description, Not(HasSubstr(secret)));
  }
}

TEST(CheckMessagesTest, DescriptionsSayWhatIsExpected) {
  const std::vector<FieldViolation> violations =
      CheckMessages({"[]", R"({"type":"txt"})", "{} x", Text(std::string(5001, 'a'))});
  ASSERT_EQ(violations.size(), 4u);
  EXPECT_THAT(violations[0].description, HasSubstr("not an array"));
  EXPECT_THAT(violations[1].description, HasSubstr("textV2"));
  EXPECT_THAT(violations[2].description, HasSubstr("JSON"));
  EXPECT_THAT(violations[3].description, HasSubstr("5001"));
}

TEST(MessagesJsonArrayTest, JoinsTheElementsAsWritten) {
  EXPECT_EQ(MessagesJsonArray({Text("a"), R"( {"type":"sticker"} )"}),
            R"([{"type":"text","text":"a"}, {"type":"sticker"} ])");
  EXPECT_EQ(MessagesJsonArray({}), "[]");
}

}  // namespace
}  // namespace linechannel::server
