// Unit tests of fake_line's pure parts: JSON writing, form and URL parsing, event texts, ids.
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/tools/json_view.h"
#include "tools/fake_line/event_factory.h"
#include "tools/fake_line/fixture.h"
#include "tools/fake_line/form.h"
#include "tools/fake_line/json_writer.h"
#include "tools/fake_line/random_ids.h"
#include "tools/fake_line/url.h"
#include "tools/fake_line/webhook_body.h"

namespace linechannel::fake_line {
namespace {

using ::linechannel::testing::JsonView;

TEST(EscapeNonAsciiTest, WritesLineStyleEscapes) {
  EXPECT_EQ(EscapeNonAscii(R"({"a":"plain \"x\""})"), R"({"a":"plain \"x\""})");
  EXPECT_EQ(EscapeNonAscii("caf\u00e9"), "caf\\u00E9");
  EXPECT_EQ(EscapeNonAscii("\u3053"), "\\u3053");
  EXPECT_EQ(EscapeNonAscii("\U0001F600"), "\\uD83D\\uDE00");
  EXPECT_EQ(EscapeNonAscii("a\xff"
                           "b"),
            "a\\uFFFDb");
  EXPECT_EQ(EscapeNonAscii("\xe3\x81"), "\\uFFFD\\uFFFD");  // Truncated sequence.
}

TEST(JsonWriterTest, BuildsObjectsThroughProtobuf) {
  JsonObject object;
  object.Set("s", "quote \" and \\ and \n")
      .Set("n", int64_t{1795573454387})
      .Set("b", false)
      .Set("nested", JsonObject().Set("k", 1))
      .Set("list", JsonArray().Add("x").Add(JsonObject()));
  JsonView json(object.ToString());
  ASSERT_TRUE(json.valid()) << object.ToString();
  EXPECT_EQ(json.Str("/s"), "quote \" and \\ and \n");
  EXPECT_EQ(json.Int("/n"), 1795573454387);
  EXPECT_TRUE(json.Has("/b"));
  EXPECT_EQ(json.Int("/nested/k"), 1);
  EXPECT_EQ(json.Str("/list/0"), "x");
  EXPECT_EQ(JsonQuote("U1\"2"), R"("U1\"2")");
}

TEST(FormTest, DecodesUrlEncoding) {
  absl::StatusOr<std::map<std::string, std::string>> form =
      ParseForm("a=1&b=x%2By+z&c&d=%E3%81%82&&a=2");
  ASSERT_TRUE(form.ok()) << form.status();
  EXPECT_EQ(form->at("a"), "2");
  EXPECT_EQ(form->at("b"), "x+y z");
  EXPECT_EQ(form->at("c"), "");
  EXPECT_EQ(form->at("d"), "\u3042");
  EXPECT_FALSE(ParseForm("a=%zz").ok());
  EXPECT_FALSE(ParseForm("a=%4").ok());
  EXPECT_FALSE(ParseForm("a=%").ok());
  EXPECT_TRUE(ParseForm("").ok());
}

TEST(UrlTest, SplitsHttpUrls) {
  absl::StatusOr<HttpUrl> url = ParseHttpUrl("HTTPS://hooks.example.com/line/webhook?x=1#frag");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "hooks.example.com");
  EXPECT_EQ(url->port, "443");
  EXPECT_EQ(url->target, "/line/webhook?x=1");
  EXPECT_EQ(url->host_header, "hooks.example.com");

  url = ParseHttpUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(url.ok());
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->target, "/");
  EXPECT_EQ(url->host_header, "127.0.0.1:8080");

  url = ParseHttpUrl("http://[::1]:9/x");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "9");

  for (const char* bad :
       {"ftp://x/", "example.com/x", "http://", "http://user@host/", "http://host:0/",
        "http://host:99999/", "http://host:/", "http://ho st/", "http://host/\xe3\x81\x82"}) {
    EXPECT_FALSE(ParseHttpUrl(bad).ok()) << bad;
  }
  EXPECT_TRUE(ValidateWebhookUrl("https://example.com/" + std::string(480, 'a')).ok());
  EXPECT_FALSE(ValidateWebhookUrl("https://example.com/" + std::string(481, 'a')).ok());
}

TEST(WebhookBodyTest, BuildsTheEnvelopeAroundExactEventTexts) {
  EXPECT_EQ(BuildWebhookBody("U1", {}), R"({"destination":"U1","events":[]})");
  EXPECT_EQ(BuildWebhookBody("U1", {{R"({ "a" : 1 })", ""}, {"{}", ""}}),
            R"({"destination":"U1","events":[{ "a" : 1 },{}]})");
}

TEST(WebhookBodyTest, SplitsEventsKeepingTheirBytes) {
  absl::StatusOr<std::vector<RawEvent>> events =
      SplitEvents(" [ {\"webhookEventId\" : \"01A\", \"t\":\"\\u00e9\"} ,\n{\"x\":[1,{}]} ] ");
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].json, "{\"webhookEventId\" : \"01A\", \"t\":\"\\u00e9\"}");
  EXPECT_EQ((*events)[0].webhook_event_id, "01A");
  EXPECT_EQ((*events)[1].json, "{\"x\":[1,{}]}");
  EXPECT_EQ((*events)[1].webhook_event_id, "");
  EXPECT_FALSE(SplitEvents("[1]").ok());
  EXPECT_FALSE(SplitEvents("{}").ok());
  EXPECT_FALSE(SplitEvents("[{}").ok());
}

TEST(WebhookBodyTest, ReadsRawMembers) {
  const std::string json = R"({"a": "x", "events" : [ {"b": 1} ], "c": {"d": []}})";
  EXPECT_EQ(*RawMember(json, "events"), R"([ {"b": 1} ])");
  EXPECT_EQ(*RawMember(json, "a"), R"("x")");
  EXPECT_EQ(*RawMember(json, "c"), R"({"d": []})");
  EXPECT_EQ(RawMember(json, "zz").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(RawMember("[1]", "a").ok());
}

TEST(WebhookBodyTest, MarksRedeliveryByReplacingOneToken) {
  EXPECT_EQ(*MarkRedelivery(R"({"deliveryContext":{"isRedelivery":false},"x":false})"),
            R"({"deliveryContext":{"isRedelivery":true},"x":false})");
  EXPECT_EQ(*MarkRedelivery(R"({"deliveryContext" : { "isRedelivery" :  false } })"),
            R"({"deliveryContext" : { "isRedelivery" :  true } })");
  EXPECT_EQ(*MarkRedelivery(R"({"deliveryContext":{"isRedelivery":true}})"),
            R"({"deliveryContext":{"isRedelivery":true}})");
  // The same words inside a string are not the key.
  const std::string tricky =
      R"({"message":{"text":"\"deliveryContext\":{\"isRedelivery\":false}"},)"
      R"("deliveryContext":{"isRedelivery":false}})";
  EXPECT_EQ(*MarkRedelivery(tricky),
            R"({"message":{"text":"\"deliveryContext\":{\"isRedelivery\":false}"},)"
            R"("deliveryContext":{"isRedelivery":true}})");
  EXPECT_FALSE(MarkRedelivery(R"({"type":"follow"})").ok());
}

TEST(RandomIdsTest, UlidsHaveTheRightShapeAndTime) {
  // The canonical example ULID 01ARZ3NDEKTSV4RRFFQ69G5FAV carries this time.
  const absl::Time t = absl::FromUnixMillis(1469922850259);
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewUlid(t);
    ASSERT_EQ(id.size(), 26u);
    EXPECT_EQ(id.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), std::string::npos);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_EQ(NewUlid(t).substr(0, 10), "01ARZ3NDEK");
  // Later times sort later.
  EXPECT_LT(NewUlid(t).substr(0, 10), NewUlid(t + absl::Milliseconds(1)).substr(0, 10));
  EXPECT_EQ(RandomHex(32).size(), 32u);
  EXPECT_EQ(RandomUuid().size(), 36u);
}

TEST(EventFactoryTest, WritesAsciiOnlyJson) {
  const RawEvent event = GenerateEvent("message", absl::FromUnixMillis(1700000000123), 7);
  for (char c : event.json) EXPECT_LT(static_cast<unsigned char>(c), 0x80);
  JsonView json(event.json);
  ASSERT_TRUE(json.valid()) << event.json;
  EXPECT_EQ(json.Int("/timestamp"), 1700000000123);
  EXPECT_EQ(json.Str("/webhookEventId"), event.webhook_event_id);
  EXPECT_TRUE(absl::EndsWith(json.Str("/message/text"), "#7"));
}

TEST(FixtureTest, ParsesChannelsWithDefaults) {
  absl::StatusOr<std::vector<Channel>> channels = ParseChannels(R"({"channels": [
      {"channel_id": "1", "channel_secret": "s", "access_token": "t", "bot_user_id": "U1",
       "basic_id": "@1"}]})");
  ASSERT_TRUE(channels.ok()) << channels.status();
  ASSERT_EQ(channels->size(), 1u);
  EXPECT_TRUE((*channels)[0].webhook_active);
  EXPECT_EQ((*channels)[0].premium_id, "");
  EXPECT_TRUE(ParseChannels(R"({"channels": []})").ok());
  EXPECT_FALSE(ParseChannels(R"({"channels": [{"channel_id": "1"}]})").ok());
  EXPECT_FALSE(ParseChannels(R"({"channels": {}})").ok());
  EXPECT_FALSE(ParseChannels(R"({"channels": [], "extra": 1})").ok());
  const char* twice = R"({"channels": [
      {"channel_id": "1", "channel_secret": "s", "access_token": "t", "bot_user_id": "U1",
       "basic_id": "@1"},
      {"channel_id": "1", "channel_secret": "s", "access_token": "u", "bot_user_id": "U1",
       "basic_id": "@1"}]})";
  EXPECT_FALSE(ParseChannels(twice).ok());
  EXPECT_FALSE(LoadFixtureFile("/nonexistent/channels.json").ok());
}

TEST(FixtureTest, ParsesRichMenusAndRefusesABadDefault) {
  const auto parse = [](const std::string& rich) {
    return ParseChannels(R"({"channel_id": "1", "channel_secret": "s", "access_token": "t",
                             "bot_user_id": "U1", "basic_id": "@1", )" +
                         rich + "}");
  };
  absl::StatusOr<std::vector<Channel>> channels =
      parse(R"("rich_menus": [{"rich_menu_id": "richmenu-a", "name": "spring"},
                              {"rich_menu_id": "richmenu-b", "chat_bar_text": "Menu"}],
               "default_rich_menu_id": "richmenu-b")");
  ASSERT_TRUE(channels.ok()) << channels.status();
  const Channel& channel = (*channels)[0];
  ASSERT_EQ(channel.rich_menus.size(), 2u);
  EXPECT_EQ(channel.rich_menus[0].name, "spring");
  EXPECT_EQ(channel.rich_menus[1].chat_bar_text, "Menu");
  EXPECT_EQ(channel.default_rich_menu_id, "richmenu-b");

  EXPECT_FALSE(parse(R"("default_rich_menu_id": "richmenu-x")").ok());
  EXPECT_FALSE(parse(R"("rich_menus": [{"name": "no id"}])").ok());
  EXPECT_FALSE(parse(R"("rich_menus": [{"rich_menu_id": "a"}, {"rich_menu_id": "a"}])").ok());
  EXPECT_FALSE(parse(R"("rich_menus": [{"rich_menu_id": "a", "size": 1}])").ok());
  EXPECT_FALSE(parse(R"("rich_menus": {})").ok());
}

}  // namespace
}  // namespace linechannel::fake_line
