#include "server/webhook/webhook_payload.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linechannel::server {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

std::string Vector(const std::string& name) {
  std::ifstream in(std::string(LINE_VECTORS_DIR) + "/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(WebhookPayloadTest, ReadsACurrentPayloadAndKeepsEachEventsBytes) {
  const std::string first =
      R"({"type":"message","message":{"type":"text","id":"1","text":"\ud83d\ude00 caf\u00e9"},)"
      R"("webhookEventId":"01HZZZZZZZZZZZZZZZZZZZZZZZ","deliveryContext":{"isRedelivery":true},)"
      R"("timestamp":1700000000000,"source":{"type":"group","groupId":"Cg","userId":"Uu"},)"
      R"("replyToken":"r","mode":"standby"})";
  const std::string second = R"({ "type" : "follow" , "timestamp" : 5 })";
  const std::string body =
      absl::StrCat(R"({"destination":"Ubot", "events":[ )", first, " ,\n\t", second, "\n]}");
  auto payload = ParseWebhookPayload(body);
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(payload->destination, "Ubot");
  ASSERT_THAT(payload->events, SizeIs(2));
  const storage::NewEvent& e = payload->events[0];
  EXPECT_EQ(e.raw_json, first);  // Exactly as sent: escapes and all.
  EXPECT_EQ(e.type, "message");
  EXPECT_EQ(e.timestamp_ms, 1700000000000);
  EXPECT_EQ(e.webhook_event_id, "01HZZZZZZZZZZZZZZZZZZZZZZZ");
  EXPECT_EQ(e.mode, "standby");
  EXPECT_TRUE(e.redelivery);
  EXPECT_EQ(e.source_type, "group");
  EXPECT_EQ(e.source_group_id, "Cg");
  EXPECT_EQ(e.source_user_id, "Uu");
  EXPECT_EQ(payload->events[1].raw_json, second);
  EXPECT_FALSE(payload->events[1].webhook_event_id.has_value());
  EXPECT_EQ(payload->events[1].mode, "");
}

TEST(WebhookPayloadTest, AnEmptyEventsArrayIsAVerifyRequest) {
  auto payload = ParseWebhookPayload(Vector("local_empty_events_body.json"));
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_THAT(payload->events, SizeIs(0));
  EXPECT_EQ(payload->destination, "U0123456789abcdef0123456789abcdef");
  ASSERT_TRUE(ParseWebhookPayload(R"({"events":[],"destination":"U1"})").ok());
  ASSERT_TRUE(ParseWebhookPayload(R"({"events":[ ],"destination":"U1"})").ok());
}

// The SDKs' older payloads have no `destination`, which LINE's spec requires: they are refused
// as they are, and read (events and their bytes) once a destination is added in front.
TEST(WebhookPayloadTest, ReadsTheSdksOwnPayloads) {
  struct Case {
    std::string file;
    size_t events;
    bool has_destination;
  } cases[] = {{"node_middleware_body.json", 1, true},
               {"java_spring-boot_line-bot-spring-boot-webmvc_src_test_resources_callback-"
                "request.json",
                2, false},
               {"java_spring-boot_line-bot-spring-boot-webmvc_src_test_resources_callback-"
                "request-with-destination.json",
                0, true},
               {"ruby_v1_VALIDATION_CONTENT.json", 0, false},
               {"php_SignatureValidatorTest_json.txt", 0, false}};
  for (const Case& c : cases) {
    std::string body = Vector(c.file);
    ASSERT_FALSE(body.empty()) << c.file;
    if (!c.has_destination) {
      auto refused = ParseWebhookPayload(body);
      ASSERT_FALSE(refused.ok()) << c.file;
      EXPECT_EQ(refused.status().message(), "not a LINE webhook body: no \"destination\"");
      ASSERT_EQ(body.front(), '{') << c.file;
      body.insert(1, R"("destination":"U0123456789abcdef0123456789abcdef",)");
    }
    auto payload = ParseWebhookPayload(body);
    ASSERT_TRUE(payload.ok()) << c.file << ": " << payload.status();
    if (c.events > 0) {
      EXPECT_THAT(payload->events, SizeIs(c.events)) << c.file;
    }
    for (const storage::NewEvent& e : payload->events) {
      // Each raw event is a slice of the body that itself parses as one event.
      EXPECT_NE(body.find(e.raw_json), std::string::npos) << c.file;
      EXPECT_EQ(e.raw_json.front(), '{');
      EXPECT_EQ(e.raw_json.back(), '}');
      auto again =
          ParseWebhookPayload(absl::StrCat(R"({"destination":"U1","events":[)", e.raw_json, "]}"));
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_EQ(again->events[0].type, e.type);
    }
  }
}

TEST(WebhookPayloadTest, OlderEventsWithoutIdsAndUnknownTypesAreAccepted) {
  auto payload = ParseWebhookPayload(
      R"({"destination":"U1","events":[{"type":"somethingNew2030","timestamp":1,)"
      R"("extra":{"a":[1,2,{"b":null}]}}]})");
  ASSERT_TRUE(payload.ok()) << payload.status();
  EXPECT_EQ(payload->destination, "U1");
  EXPECT_EQ(payload->events[0].type, "somethingNew2030");
  EXPECT_FALSE(payload->events[0].webhook_event_id.has_value());
}

TEST(WebhookPayloadTest, RefusesWhatIsNotLinesShape) {
  const struct {
    std::string body;
    std::string why;
  } cases[] = {
      {"", "Empty"},
      {"not json", ""},
      {R"({"destination":"U1","events":[)", ""},
      {"[]", "not a JSON object"},
      {R"("text")", "not a JSON object"},
      {R"({"destination":"U1"})", "no \"events\" array"},
      {R"({"destination":"U1","events":{}})", "no \"events\" array"},
      {R"({"destination":1,"events":[]})", "\"destination\" is not a string"},
      {R"({"events":[]})", "no \"destination\""},
      {R"({"events":[{"type":"message","timestamp":1,"webhookEventId":"01J"}]})",
       "no \"destination\""},
      {R"({"destination":"U1","events":[1]})", "events[0] is not an object"},
      {R"({"destination":"U1","events":[{"timestamp":1}]})", "events[0] has no \"type\" string"},
      {R"({"destination":"U1","events":[{"type":"","timestamp":1}]})",
       "events[0] has no \"type\" string"},
      {R"({"destination":"U1","events":[{"type":"message"}]})", "no integer \"timestamp\""},
      {R"({"destination":"U1","events":[{"type":"message","timestamp":"1"}]})",
       "no integer \"timestamp\""},
      {R"({"destination":"U1","events":[{"type":"message","timestamp":1.5}]})",
       "no integer \"timestamp\""},
      {R"({"destination":"U1","events":[{"type":"message","timestamp":-1}]})", "outside years"},
      {R"({"destination":"U1","events":[{"type":"message","timestamp":99999999999999999}]})",
       "outside years"},
      {R"({"destination":"U1","events":[],"events":[]})", "appears twice"},
      {R"({"destination":"U1","events":[{"type":"x","timestamp":1,"v":tru}]})", ""},
  };
  for (const auto& c : cases) {
    auto payload = ParseWebhookPayload(c.body);
    ASSERT_FALSE(payload.ok()) << c.body;
    EXPECT_TRUE(absl::IsInvalidArgument(payload.status())) << c.body;
    EXPECT_THAT(std::string(payload.status().message()), HasSubstr(c.why)) << c.body;
  }
}

TEST(WebhookPayloadTest, RefusesInvalidUtf8AndDeepNesting) {
  EXPECT_FALSE(ParseWebhookPayload(
                   std::string(R"({"destination":"U1","events":[{"type":"m\xff","timestamp":1}]})"))
                   .ok());
  EXPECT_FALSE(
      ParseWebhookPayload(std::string("{\"destination\":\"U1\",\"events\":[],\"x\":\"\xc3\x28\"}"))
          .ok());
  std::string deep = R"({"destination":"U1","events":[{"type":"m","timestamp":1,"x":)";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}]}";
  auto payload = ParseWebhookPayload(deep);
  ASSERT_FALSE(payload.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(payload.status()));
}

TEST(WebhookPayloadTest, ManyEventsKeepTheirOrderAndBytes) {
  std::string body = R"({"destination":"U","events":[)";
  std::vector<std::string> events;
  for (int i = 0; i < 500; ++i) {
    events.push_back(absl::StrCat(R"({"type":"message","timestamp":)", i,
                                  R"(,"webhookEventId":"id)", i, R"("})"));
    absl::StrAppend(&body, i == 0 ? "" : ",", events.back());
  }
  body += "]}";
  auto payload = ParseWebhookPayload(body);
  ASSERT_TRUE(payload.ok());
  ASSERT_THAT(payload->events, SizeIs(500));
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(payload->events[i].raw_json, events[i]);
    EXPECT_EQ(payload->events[i].webhook_event_id, absl::StrCat("id", i));
  }
}

// A thread parses with the same parsers from one body to the next, and a body larger than
// they keep room for gets parsers of its own: whatever the order of sizes, each body gives
// its own events, and a refused body leaves nothing behind for the next.
TEST(WebhookPayloadTest, BodiesOfAnySizeInAnyOrderEachGiveTheirOwnEvents) {
  const auto body_of = [](int events, size_t text_bytes, std::vector<std::string>* texts) {
    std::string body = R"({"destination":"U","events":[)";
    for (int i = 0; i < events; ++i) {
      texts->push_back(
          absl::StrCat(R"({"type":"message","timestamp":)", i, R"(,"webhookEventId":"e)", events,
                       "-", i, R"(","message":{"text":")", std::string(text_bytes, 'x'), R"("}})"));
      absl::StrAppend(&body, i == 0 ? "" : ",", texts->back());
    }
    return body + "]}";
  };
  // One event padded to a body of exactly `bytes` bytes.
  const auto body_sized = [&body_of](size_t bytes, std::vector<std::string>* texts) {
    std::vector<std::string> unused;
    const size_t bare = body_of(1, 0, &unused).size();
    return body_of(1, bytes - bare, texts);
  };
  // Small, large (about 200 KiB), refused, small again, large again, then bodies of exactly the
  // size the thread's parsers keep room for (32 KiB) and of one byte more.
  struct Case {
    int events;
    size_t text_bytes;
    bool refused = false;
    size_t body_bytes = 0;  // If set, one event and a body of this size.
  };
  for (const Case& c : std::vector<Case>{{1, 400},
                                         {300, 600},
                                         {2, 10, true},
                                         {3, 100},
                                         {250, 700},
                                         {1, 0, false, 32 * 1024},
                                         {1, 0, false, 32 * 1024 + 1},
                                         {1, 0, false, 32 * 1024}}) {
    std::vector<std::string> texts;
    std::string body = c.body_bytes > 0 ? body_sized(c.body_bytes, &texts)
                                        : body_of(c.events, c.text_bytes, &texts);
    if (c.body_bytes > 0) {
      ASSERT_EQ(body.size(), c.body_bytes);
    }
    if (c.refused) body.insert(body.size() - 3, ",");  // {..., } is not JSON.
    auto payload = ParseWebhookPayload(body);
    if (c.refused) {
      EXPECT_TRUE(absl::IsInvalidArgument(payload.status())) << payload.status();
      continue;
    }
    ASSERT_TRUE(payload.ok()) << payload.status();
    ASSERT_THAT(payload->events, SizeIs(c.events));
    for (int i = 0; i < c.events; ++i) EXPECT_EQ(payload->events[i].raw_json, texts[i]);
  }
}

}  // namespace
}  // namespace linechannel::server
