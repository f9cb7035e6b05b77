// Webhooks that fake_line POSTs, checked at a test endpoint with an independent HMAC.
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/support/test_certificates.h"
#include "tests/tools/fake_line_test_base.h"
#include "tests/tools/independent_signature.h"
#include "tests/tools/webhook_receiver.h"

namespace linechannel::testing {
namespace {

bool IsUlid(const std::string& id) {
  return id.size() == 26 &&
         id.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ") == std::string::npos;
}

bool IsAscii(const std::string& s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

class WebhookTest : public FakeLineTest {
 protected:
  void SetUp() override {
    FakeLineTest::SetUp();
    ASSERT_EQ(SetEndpoint(kTokenA, receiver_.Url("/line/webhook/k")).status, 200);
  }

  // The last request the endpoint received, after checking that its signature is right for
  // `secret`.
  WebhookReceiver::Request LastSigned(const std::string& secret = kSecretA) {
    std::vector<WebhookReceiver::Request> requests = receiver_.requests();
    EXPECT_FALSE(requests.empty());
    if (requests.empty()) return {};
    WebhookReceiver::Request request = requests.back();
    EXPECT_EQ(request.Header("x-line-signature"), IndependentSignature(secret, request.body));
    EXPECT_EQ(request.Header("content-type"), "application/json; charset=utf-8");
    EXPECT_EQ(request.Header("user-agent"), "LineBotWebhook/2.0");
    return request;
  }

  WebhookReceiver receiver_;
};

TEST_F(WebhookTest, GeneratesRealisticMessageEvents) {
  HttpReply reply = SendWebhooks(kChannelA, R"({"generate": {"count": 5, "type": "message"}})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  JsonView answer(reply.body);
  EXPECT_TRUE(answer.Bool("/sent"));
  EXPECT_EQ(answer.Int("/status"), 200);
  EXPECT_EQ(answer.Str("/body"), "OK");
  EXPECT_EQ(answer.Str("/error"), "");
  EXPECT_TRUE(answer.Has("/latency_ms"));
  ASSERT_EQ(answer.Size("/webhook_event_ids"), 5u);

  ASSERT_EQ(receiver_.requests().size(), 1u);
  WebhookReceiver::Request request = LastSigned();
  EXPECT_EQ(answer.Str("/signature"), request.Header("x-line-signature"));
  EXPECT_EQ(request.target, "/line/webhook/k");
  // LINE writes non-ASCII as \u escapes, emoji as surrogate pairs.
  EXPECT_TRUE(IsAscii(request.body));
  EXPECT_TRUE(absl::StrContains(request.body, "\\uD83D\\uDC4B")) << request.body;
  EXPECT_TRUE(absl::StrContains(request.body, "\\u3053")) << request.body;

  JsonView body(request.body);
  ASSERT_TRUE(body.valid()) << request.body;
  EXPECT_EQ(body.Keys(""), (std::vector<std::string>{"destination", "events"}));
  EXPECT_EQ(body.Str("/destination"), kBotA);
  ASSERT_EQ(body.Size("/events"), 5u);
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    const std::string e = absl::StrCat("/events/", i);
    EXPECT_EQ(body.Str(e + "/type"), "message");
    EXPECT_GT(body.Int(e + "/timestamp"), 1600000000000);
    EXPECT_EQ(body.Str(e + "/mode"), "active");
    const std::string id = body.Str(e + "/webhookEventId");
    EXPECT_TRUE(IsUlid(id)) << id;
    EXPECT_EQ(answer.Str(absl::StrCat("/webhook_event_ids/", i)), id);
    ids.insert(id);
    EXPECT_TRUE(body.Has(e + "/deliveryContext/isRedelivery"));
    EXPECT_FALSE(body.Bool(e + "/deliveryContext/isRedelivery"));
    EXPECT_EQ(body.Str(e + "/source/type"), "user");
    const std::string user = body.Str(e + "/source/userId");
    EXPECT_EQ(user.size(), 33u);
    EXPECT_EQ(user[0], 'U');
    EXPECT_FALSE(body.Str(e + "/replyToken").empty());
    EXPECT_EQ(body.Str(e + "/message/type"), "text");
    EXPECT_FALSE(body.Str(e + "/message/id").empty());
    EXPECT_FALSE(body.Str(e + "/message/quoteToken").empty());
    // Decoded, the text holds the real characters.
    EXPECT_TRUE(absl::StrContains(body.Str(e + "/message/text"), "\U0001F44B"));
    EXPECT_TRUE(absl::StrContains(body.Str(e + "/message/text"), "\u3053\u3093"));
  }
  EXPECT_EQ(ids.size(), 5u);
}

TEST_F(WebhookTest, EventIdsAreUniqueAcrossCalls) {
  std::set<std::string> ids;
  for (int call = 0; call < 4; ++call) {
    HttpReply reply = SendWebhooks(kChannelA, R"({"generate": {"count": 50}})");
    ASSERT_EQ(reply.status, 200) << reply.body;
    JsonView answer(reply.body);
    for (size_t i = 0; i < answer.Size("/webhook_event_ids"); ++i) {
      ids.insert(answer.Str(absl::StrCat("/webhook_event_ids/", i)));
    }
  }
  EXPECT_EQ(ids.size(), 200u);
}

TEST_F(WebhookTest, GeneratesOtherEventTypes) {
  for (const char* type : {"follow", "unfollow", "postback", "somethingNew"}) {
    HttpReply reply = SendWebhooks(
        kChannelA, absl::StrCat(R"({"generate": {"count": 1, "type": ")", type, R"("}})"));
    ASSERT_EQ(reply.status, 200) << reply.body;
    JsonView body(LastSigned().body);
    EXPECT_EQ(body.Str("/events/0/type"), type);
    EXPECT_TRUE(IsUlid(body.Str("/events/0/webhookEventId")));
  }
  ASSERT_EQ(SendWebhooks(kChannelA, R"({"generate": {"type": "postback"}})").status, 200);
  EXPECT_FALSE(JsonView(LastSigned().body).Str("/events/0/postback/data").empty());
}

TEST_F(WebhookTest, SendsGivenEventsVerbatim) {
  const std::string event1 = R"({ "type" : "message", "x": "caf\u00e9 \ud83d\ude00",)"
                             R"( "webhookEventId": "01HZZZZZZZZZZZZZZZZZZZZZZZ",)"
                             R"( "deliveryContext": {"isRedelivery": false}, "timestamp": 1 })";
  const std::string event2 = R"({"type":"follow","legacy":true})";
  HttpReply reply =
      SendWebhooks(kChannelA, absl::StrCat(R"({"events": [ )", event1, " ,\n ", event2, R"( ]})"));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(LastSigned().body, absl::StrCat(R"({"destination":")", kBotA, R"(","events":[)", event1,
                                            ",", event2, "]}"));
  JsonView answer(reply.body);
  ASSERT_EQ(answer.Size("/webhook_event_ids"), 1u);
  EXPECT_EQ(answer.Str("/webhook_event_ids/0"), "01HZZZZZZZZZZZZZZZZZZZZZZZ");
}

TEST_F(WebhookTest, SendsARawBodyAsIs) {
  const std::string raw = "{\"destination\":\"x\",\n \"events\": [] }  trailing, not JSON";
  HttpReply reply = SendWebhooks(kChannelA, absl::StrCat("{\"raw_body\":", Quote(raw), "}"));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(LastSigned().body, raw);
}

TEST_F(WebhookTest, SignatureOverrides) {
  SendWebhooks(kChannelA, R"({"secret": "another secret", "generate": {"count": 0}})");
  WebhookReceiver::Request other = LastSigned("another secret");
  EXPECT_EQ(other.body, absl::StrCat(R"({"destination":")", kBotA, R"(","events":[]})"));

  HttpReply custom = SendWebhooks(kChannelA, R"({"signature": "invalid_signature"})");
  EXPECT_EQ(JsonView(custom.body).Str("/signature"), "invalid_signature");
  EXPECT_EQ(receiver_.requests().back().Header("x-line-signature"), "invalid_signature");

  HttpReply none = SendWebhooks(kChannelA, R"({"signature": ""})");
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_EQ(receiver_.requests().back().headers.count("x-line-signature"), 0u);

  SendWebhooks(kChannelA, R"({"destination": "Uffffffffffffffffffffffffffffffff"})");
  EXPECT_EQ(JsonView(LastSigned().body).Str("/destination"), "Uffffffffffffffffffffffffffffffff");
}

TEST_F(WebhookTest, RedeliversARememberedEventWithTheFlagSwitched) {
  HttpReply first = SendWebhooks(kChannelA, R"({"generate": {"count": 2}})");
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string original_body = LastSigned().body;
  const std::string id = JsonView(first.body).Str("/webhook_event_ids/1");

  HttpReply again =
      client().PostJson(absl::StrCat("/fake/channels/", kChannelA, "/webhooks/redeliver"),
                        absl::StrCat("{\"webhook_event_id\":", Quote(id), "}"));
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(JsonView(again.body).Str("/webhook_event_ids/0"), id);
  ASSERT_EQ(receiver_.requests().size(), 2u);
  const std::string redelivered = LastSigned().body;
  JsonView body(redelivered);
  ASSERT_EQ(body.Size("/events"), 1u);
  EXPECT_EQ(body.Str("/events/0/webhookEventId"), id);
  EXPECT_TRUE(body.Bool("/events/0/deliveryContext/isRedelivery"));
  // Apart from the flag, the event is byte for byte the one sent first.
  const std::string prefix = absl::StrCat(R"({"destination":")", kBotA, R"(","events":[)");
  ASSERT_TRUE(absl::StartsWith(redelivered, prefix));
  const std::string event =
      redelivered.substr(prefix.size(), redelivered.size() - prefix.size() - 2);
  EXPECT_TRUE(absl::StrContains(
      original_body,
      absl::StrReplaceAll(event, {{"\"isRedelivery\":true", "\"isRedelivery\":false"}})));

  // After a secret reissue, redeliveries are signed with the new secret.
  const std::string secret =
      JsonView(Patch(kChannelA, R"({"reissue_secret": true})").body).Str("/channel_secret");
  client().PostJson(absl::StrCat("/fake/channels/", kChannelA, "/webhooks/redeliver"),
                    absl::StrCat("{\"webhook_event_id\":", Quote(id), "}"));
  LastSigned(secret);

  EXPECT_EQ(client()
                .PostJson(absl::StrCat("/fake/channels/", kChannelA, "/webhooks/redeliver"),
                          R"({"webhook_event_id": "01NOTSENT0000000000000000"})")
                .status,
            404);
  EXPECT_EQ(client()
                .PostJson(absl::StrCat("/fake/channels/", kChannelB, "/webhooks/redeliver"),
                          absl::StrCat("{\"webhook_event_id\":", Quote(id), "}"))
                .status,
            404);
}

TEST_F(WebhookTest, RedeliversVerbatimEventsToo) {
  const std::string event = R"({"type":"message","webhookEventId":"01HAAAAAAAAAAAAAAAAAAAAAAA",)"
                            R"("deliveryContext": { "isRedelivery" : false },"timestamp":5})";
  ASSERT_EQ(SendWebhooks(kChannelA, absl::StrCat(R"({"events":[)", event, "]}")).status, 200);
  HttpReply again =
      client().PostJson(absl::StrCat("/fake/channels/", kChannelA, "/webhooks/redeliver"),
                        R"({"webhook_event_id": "01HAAAAAAAAAAAAAAAAAAAAAAA"})");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(LastSigned().body, absl::StrCat(R"({"destination":")", kBotA, R"(","events":[)",
                                            absl::StrReplaceAll(event, {{"false", "true"}}), "]}"));
}

TEST_F(WebhookTest, VerifySendsSignedEmptyEventsEvenWithUseWebhookOff) {
  ASSERT_EQ(Patch(kChannelA, R"({"webhook_active": false})").status, 200);
  HttpReply reply = client().PostJson(absl::StrCat("/fake/channels/", kChannelA, "/verify"), "");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(JsonView(reply.body).Int("/status"), 200);
  EXPECT_EQ(LastSigned().body, absl::StrCat(R"({"destination":")", kBotA, R"(","events":[]})"));
}

TEST_F(WebhookTest, ReportsWhatTheEndpointAnswered) {
  receiver_.AnswerWith(500);
  HttpReply reply = SendWebhooks(kChannelA, "{}");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(JsonView(reply.body).Int("/status"), 500);
  EXPECT_EQ(JsonView(reply.body).Str("/body"), "nope");

  HttpReply refused = SendWebhooks(
      kChannelA, absl::StrCat(R"({"endpoint": "http://127.0.0.1:)", ClosedPort(), R"(/x"})"));
  ASSERT_EQ(refused.status, 200) << refused.body;
  EXPECT_EQ(JsonView(refused.body).Int("/status"), 0);
  EXPECT_FALSE(JsonView(refused.body).Str("/error").empty());
}

TEST_F(WebhookTest, BadControlRequests) {
  EXPECT_EQ(SendWebhooks("1656999999", "{}").status, 404);
  EXPECT_EQ(SendWebhooks(kChannelA, "{oops").status, 400);
  EXPECT_EQ(SendWebhooks(kChannelA, R"({"events": [], "generate": {"count": 1}})").status, 400);
  EXPECT_EQ(SendWebhooks(kChannelA, R"({"events": [1, 2]})").status, 400);
  EXPECT_EQ(SendWebhooks(kChannelA, R"({"generate": {"count": 100000}})").status, 400);
  EXPECT_EQ(SendWebhooks(kChannelA, R"({"colour": "blue"})").status, 400);
  // Channel A's endpoint cleared, and none given.
  ASSERT_EQ(Patch(kChannelA, R"({"webhook_endpoint": ""})").status, 200);
  HttpReply none = SendWebhooks(kChannelA, "{}");
  EXPECT_EQ(none.status, 400);
  EXPECT_TRUE(JsonView(none.body).IsString("/message"));
  EXPECT_TRUE(receiver_.requests().empty());
}

class HttpsWebhookTest : public FakeLineTest {
 protected:
  void SetUp() override {
    absl::StatusOr<TestPki> pki = GenerateTestPki();
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
    receiver_ = std::make_unique<WebhookReceiver>(WebhookReceiver::TlsIdentity{
        pki_.server_certificate_pem + pki_.ca_certificate_pem, pki_.server_private_key_pem});
  }

  // Starts the fake trusting the test CA.
  void StartTrustingTestCa() {
    const std::string ca_file = ca_dir_.File("ca.pem");
    std::ofstream(ca_file) << pki_.ca_certificate_pem;
    StartFake({DefaultFixture(), {"--webhook_ca_file=" + ca_file}});
  }

  TempDir ca_dir_;
  TestPki pki_;
  std::unique_ptr<WebhookReceiver> receiver_;
};

TEST_F(HttpsWebhookTest, PostsOverTlsToATrustedServer) {
  StartTrustingTestCa();
  ASSERT_EQ(SetEndpoint(kTokenA, receiver_->Url("/tls")).status, 200);
  HttpReply reply = TestWebhook(kTokenA);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_TRUE(JsonView(reply.body).Bool("/success")) << reply.body;
  EXPECT_EQ(JsonView(reply.body).Str("/reason"), "OK");

  HttpReply sent = SendWebhooks(kChannelA, "{}");
  EXPECT_EQ(JsonView(sent.body).Int("/status"), 200) << sent.body;
  std::vector<WebhookReceiver::Request> requests = receiver_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].target, "/tls");
  EXPECT_EQ(requests[1].Header("x-line-signature"),
            IndependentSignature(kSecretA, requests[1].body));
}

TEST_F(HttpsWebhookTest, RefusesAnUntrustedCertificate) {
  // No --webhook_ca_file: the system's CAs do not know the test CA.
  StartFake({DefaultFixture(), {}});
  ASSERT_EQ(SetEndpoint(kTokenA, receiver_->Url("/tls")).status, 200);
  HttpReply reply = TestWebhook(kTokenA);
  ASSERT_EQ(reply.status, 200) << reply.body;
  JsonView json(reply.body);
  EXPECT_FALSE(json.Bool("/success")) << reply.body;
  EXPECT_EQ(json.Int("/statusCode"), 0);
  EXPECT_TRUE(absl::StrContains(json.Str("/detail"), "TLS")) << reply.body;
  EXPECT_TRUE(receiver_->requests().empty());
}

TEST_F(HttpsWebhookTest, ChecksTheHostName) {
  StartTrustingTestCa();
  // The certificate names "localhost" only.
  ASSERT_EQ(
      SetEndpoint(kTokenA, absl::StrCat("https://127.0.0.1:", receiver_->port(), "/tls")).status,
      200);
  HttpReply reply = TestWebhook(kTokenA);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_FALSE(JsonView(reply.body).Bool("/success")) << reply.body;
  EXPECT_TRUE(receiver_->requests().empty());
}

}  // namespace
}  // namespace linechannel::testing
