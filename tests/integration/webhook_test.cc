// The webhook endpoint over real HTTP against the real channeld: every answer, with the store
// checked after each refusal; LINE's deliveries played by the fake LINE platform.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <boost/asio.hpp>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/support/json_field.h"

namespace linechannel::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kTeam[] = "team-a";

class WebhookTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (!HasFatalFailure()) url_ = BindAndRegister(Channel1());
  }

  std::vector<std::string> Flags() override { return {"--webhook_max_body_bytes=262144"}; }

  // Binds the channel to kTeam and points LINE's webhook URL for it at us, as the user would
  // in the console. Returns the webhook URL.
  std::string BindAndRegister(const FixtureChannel& channel) {
    v1::BindChannelResponse bound;
    const grpc::Status status =
        channeld_->stub().BindChannel(Context().get(), BindRequestFor(channel, kTeam), &bound);
    EXPECT_TRUE(status.ok()) << status.error_message();
    const std::string url = bound.channel().webhook_url();
    auto patched = line_->Control("PATCH", "/fake/channels/" + channel.channel_id,
                                  absl::StrCat(R"({"webhook_endpoint":")", url, R"("})"));
    EXPECT_TRUE(patched.ok() && patched->status == 200);
    return url;
  }

  // Makes LINE send a webhook for the channel; returns the fake's report.
  std::string Send(const std::string& request_json, const FixtureChannel& channel = Channel1()) {
    auto sent =
        line_->Control("POST", "/fake/channels/" + channel.channel_id + "/webhooks", request_json);
    EXPECT_TRUE(sent.ok());
    EXPECT_EQ(sent->status, 200) << sent->body;
    return sent->body;
  }

  std::vector<v1::Event> Events(const std::string& channel_id = "") {
    return ListAllEvents(channeld_->stub(), kTeam, channel_id);
  }

  HttpResponse Post(const std::string& body, const std::map<std::string, std::string>& headers,
                    const std::string& url = "") {
    auto response = HttpCall("POST", url.empty() ? url_ : url, body, headers);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpResponse{};
  }

  // The webhook port, for tests that speak raw HTTP.
  boost::asio::ip::tcp::endpoint WebhookEndpoint() const {
    const std::string& address = channeld_->webhook_address();
    return {boost::asio::ip::make_address("127.0.0.1"),
            static_cast<unsigned short>(std::stoi(address.substr(address.rfind(':') + 1)))};
  }

  std::string url_;
};

TEST_F(WebhookTest, LinesDeliveriesAreStoredWithTheirExactBytes) {
  const std::string report = Send(R"({"generate":{"count":3,"type":"message"}})");
  EXPECT_EQ(JsonField(report, "/status"), "200") << report;
  const std::vector<v1::Event> events = Events();
  ASSERT_THAT(events, SizeIs(3));
  for (const v1::Event& e : events) {
    EXPECT_EQ(e.type(), "message");
    EXPECT_EQ(e.team_id(), kTeam);
    EXPECT_EQ(e.channel_id(), Channel1().channel_id);
    EXPECT_EQ(e.mode(), "active");
    EXPECT_EQ(e.webhook_event_id().size(), 26u);
    EXPECT_EQ(e.source().type(), "user");
    EXPECT_TRUE(e.has_receive_time());
    // LINE escapes non-ASCII as \uXXXX; the stored bytes keep that, so the signature over
    // the body would still verify.
    EXPECT_THAT(e.raw_json(), HasSubstr("\\u"));
    EXPECT_THAT(e.raw_json(), HasSubstr(e.webhook_event_id()));
  }
  EXPECT_LT(events[0].cursor(), events[1].cursor());
}

TEST_F(WebhookTest, ExactEventBytesSentByLineComeBack) {
  const std::string event =
      R"({"type":"message","timestamp":1700000000000,"mode":"active","webhookEventId":)"
      R"("01J00000000000000000000001","deliveryContext":{"isRedelivery":false},)"
      R"("source":{"type":"user","userId":"U9"},"message":{"type":"text","id":"7",)"
      R"("text":"\ud83d\ude04 caf\u00e9 \u3042"}})";
  const std::string report = Send(absl::StrCat(R"({"events":[)", event, "]}"));
  EXPECT_EQ(JsonField(report, "/status"), "200") << report;
  const auto events = Events();
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].raw_json(), event);
}

TEST_F(WebhookTest, ABatchOfManyEventsIsStoredInOneRequest) {
  const std::string report = Send(R"({"generate":{"count":300,"type":"message"}})");
  EXPECT_EQ(JsonField(report, "/status"), "200") << report;
  EXPECT_THAT(Events(), SizeIs(300));
}

TEST_F(WebhookTest, RedeliveriesAndSimultaneousCopiesAreStoredOnce) {
  const std::string report = Send(R"({"generate":{"count":1,"type":"message"}})");
  const std::string id = JsonField(report, "/webhook_event_ids/0");
  ASSERT_EQ(id.size(), 26u) << report;

  // LINE redelivers it (isRedelivery true, same webhookEventId): 200, nothing new.
  auto redelivered =
      line_->Control("POST", "/fake/channels/" + Channel1().channel_id + "/webhooks/redeliver",
                     absl::StrCat(R"({"webhook_event_id":")", id, R"("})"));
  ASSERT_TRUE(redelivered.ok());
  EXPECT_EQ(JsonField(redelivered->body, "/status"), "200") << redelivered->body;

  // Eight copies of one body at the same moment.
  const std::string body =
      WebhookBody(Channel1().bot_user_id, MessageEventJson("01J0000000000000000000SAME"));
  const std::string signature = TestSignature(Channel1().secret, body);
  std::vector<int> statuses(8);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      auto response = HttpCall("POST", url_, body, {{"x-line-signature", signature}});
      statuses[i] = response.ok() ? response->status : -1;
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  for (int status : statuses) EXPECT_EQ(status, 200);

  const auto events = Events();
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].webhook_event_id(), id);
  EXPECT_FALSE(events[0].redelivery());
  EXPECT_EQ(events[1].webhook_event_id(), "01J0000000000000000000SAME");
}

TEST_F(WebhookTest, EveryRefusalHasItsStatusAndStoresNothing) {
  const std::string good =
      WebhookBody(Channel1().bot_user_id, MessageEventJson("01J000000000000000000000R1"));
  const std::string signature = TestSignature(Channel1().secret, good);

  struct Case {
    std::string name;
    std::string method;
    std::string url;
    std::string body;
    std::map<std::string, std::string> headers;
    int status;
  };
  const std::string base = "http://" + channeld_->webhook_address();
  const std::string other_body =
      WebhookBody(Channel2().bot_user_id, MessageEventJson("01J000000000000000000000R2"));
  const std::string not_json = "this is not json";
  const std::string not_shape = R"({"destination":"U","events":{}})";
  const std::string no_destination =
      absl::StrCat(R"({"events":[)", MessageEventJson("01J000000000000000000000R3"), "]}");
  const std::vector<Case> cases = {
      {"unknown key",
       "POST",
       base + "/line/webhook/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
       good,
       {{"x-line-signature", signature}},
       404},
      {"garbage key", "POST", base + "/line/webhook/%2e%2e", good, {}, 404},
      {"other path", "POST", base + "/callback", good, {{"x-line-signature", signature}}, 404},
      {"GET", "GET", url_, "", {}, 405},
      {"no signature", "POST", url_, good, {}, 401},
      {"wrong signature",
       "POST",
       url_,
       good,
       {{"x-line-signature", TestSignature(Channel2().secret, good)}},
       401},
      {"signature of other bytes",
       "POST",
       url_,
       good + " ",
       {{"x-line-signature", signature}},
       401},
      {"upper-case header name", "POST", url_, good + " ", {{"X-LINE-SIGNATURE", signature}}, 401},
      {"not JSON",
       "POST",
       url_,
       not_json,
       {{"x-line-signature", TestSignature(Channel1().secret, not_json)}},
       400},
      {"not LINE's shape",
       "POST",
       url_,
       not_shape,
       {{"x-line-signature", TestSignature(Channel1().secret, not_shape)}},
       400},
      {"no destination (LINE's spec requires it)",
       "POST",
       url_,
       no_destination,
       {{"x-line-signature", TestSignature(Channel1().secret, no_destination)}},
       400},
      {"another bot's destination",
       "POST",
       url_,
       other_body,
       {{"x-line-signature", TestSignature(Channel1().secret, other_body)}},
       403},
      {"too large", "POST", url_, std::string(300000, ' '), {{"x-line-signature", signature}}, 413},
  };
  for (const Case& c : cases) {
    auto response = HttpCall(c.method, c.url, c.body, c.headers);
    ASSERT_TRUE(response.ok()) << c.name << ": " << response.status();
    EXPECT_EQ(response->status, c.status) << c.name << ": " << response->body;
    EXPECT_THAT(Events(), SizeIs(0)) << c.name;
  }
  EXPECT_EQ(
      Post(no_destination, {{"x-line-signature", TestSignature(Channel1().secret, no_destination)}})
          .body,
      "not a LINE webhook body: no \"destination\"\n");
  // The header name's case does not matter for a good request either.
  EXPECT_EQ(Post(good, {{"X-Line-Signature", signature}}).status, 200);
  EXPECT_THAT(Events(), SizeIs(1));
}

TEST_F(WebhookTest, ATooLargeBodyIsRefusedBeforeItIsSent) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect(WebhookEndpoint());
  const std::string path = url_.substr(url_.find("/line/"));
  const std::string head = absl::StrCat("POST ", path, " HTTP/1.1\r\nHost: x\r\n",
                                        "Content-Length: 104857600\r\nx-line-signature: x\r\n\r\n");
  boost::asio::write(socket, boost::asio::buffer(head));
  // Not one byte of the 100 MB body is sent: the answer comes anyway.
  std::string answer(256, '\0');
  boost::system::error_code ec;
  const size_t n = socket.read_some(boost::asio::buffer(answer), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_THAT(answer.substr(0, n), HasSubstr("413"));
}

TEST_F(WebhookTest, AVerifyRequestIsAcceptedAndStoresNoEvent) {
  auto verify = line_->Control("POST", "/fake/channels/" + Channel1().channel_id + "/verify");
  ASSERT_TRUE(verify.ok());
  EXPECT_EQ(JsonField(verify->body, "/status"), "200") << verify->body;
  EXPECT_THAT(Events(), SizeIs(0));
}

TEST_F(WebhookTest, UnbindingRetiresTheUrl) {
  EXPECT_EQ(JsonField(Send(R"({"generate":{"count":1}})"), "/status"), "200");
  v1::UnbindChannelRequest unbind;
  unbind.set_team_id(kTeam);
  unbind.set_channel_id(Channel1().channel_id);
  v1::UnbindChannelResponse unbound;
  ASSERT_TRUE(channeld_->stub().UnbindChannel(Context().get(), unbind, &unbound).ok());
  EXPECT_EQ(JsonField(Send(R"({"generate":{"count":1}})"), "/status"), "404");
  // The events received while bound stay readable by the team.
  EXPECT_THAT(Events(), SizeIs(1));
}

// A redelivery can come long after the first delivery, after the OA was unbound and bound again:
// the event is the OA's, and it is stored once.
TEST_F(WebhookTest, ARedeliveryAfterARebindIsStoredOnce) {
  const std::string report = Send(R"({"generate":{"count":1,"type":"message"}})");
  const std::string id = JsonField(report, "/webhook_event_ids/0");
  ASSERT_EQ(id.size(), 26u) << report;
  v1::UnbindChannelRequest unbind;
  unbind.set_team_id(kTeam);
  unbind.set_channel_id(Channel1().channel_id);
  v1::UnbindChannelResponse unbound;
  ASSERT_TRUE(channeld_->stub().UnbindChannel(Context().get(), unbind, &unbound).ok());
  const std::string new_url = BindAndRegister(Channel1());
  ASSERT_NE(new_url, url_);

  auto redelivered =
      line_->Control("POST", "/fake/channels/" + Channel1().channel_id + "/webhooks/redeliver",
                     absl::StrCat(R"({"webhook_event_id":")", id, R"("})"));
  ASSERT_TRUE(redelivered.ok());
  EXPECT_EQ(JsonField(redelivered->body, "/status"), "200") << redelivered->body;
  // A new event reaches the new binding: the redelivery went there too.
  EXPECT_EQ(JsonField(Send(R"({"generate":{"count":1,"type":"message"}})"), "/status"), "200");

  const std::vector<v1::Event> events = Events(Channel1().channel_id);
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].webhook_event_id(), id);
  EXPECT_FALSE(events[0].redelivery());
  EXPECT_NE(events[1].webhook_event_id(), id);
}

TEST_F(WebhookTest, KeepAliveServesManyRequestsOnOneConnection) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect(WebhookEndpoint());
  const std::string path = url_.substr(url_.find("/line/"));
  for (int i = 0; i < 3; ++i) {
    const std::string body = WebhookBody(
        Channel1().bot_user_id, MessageEventJson(absl::StrCat("01J0000000000000000000KA0", i)));
    const std::string request = absl::StrCat(
        "POST ", path, " HTTP/1.1\r\nHost: x\r\nContent-Length: ", body.size(),
        "\r\nx-line-signature: ", TestSignature(Channel1().secret, body), "\r\n\r\n", body);
    boost::asio::write(socket, boost::asio::buffer(request));
    std::string answer(512, '\0');
    const size_t n = socket.read_some(boost::asio::buffer(answer));
    EXPECT_THAT(answer.substr(0, n), HasSubstr("HTTP/1.1 200"));
  }
  EXPECT_THAT(Events(), SizeIs(3));
}

TEST_F(WebhookTest, ARestartLosesNothingAcknowledged) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(JsonField(Send(R"({"generate":{"count":20}})"), "/status"), "200");
  }
  const auto before = Events();
  ASSERT_THAT(before, SizeIs(100));
  ASSERT_TRUE(channeld_->Restart().ok());
  // The URL is the same after the restart; LINE's configuration still points at it.
  const auto after = Events();
  ASSERT_THAT(after, SizeIs(100));
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].cursor(), before[i].cursor());
    EXPECT_EQ(after[i].raw_json(), before[i].raw_json());
  }
  EXPECT_EQ(JsonField(Send(R"({"generate":{"count":1}})"), "/status"), "200");
}

TEST_F(WebhookTest, TheStreamDeliversEveryEventOnceInOrderAndResumes) {
  constexpr int kEvents = 1000;
  // A consumer connected before the events arrive.
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  v1::StreamEventsRequest request;
  request.set_team_id(kTeam);
  auto reader = channeld_->stub().StreamEvents(context.get(), request);

  std::thread sender([&] {
    for (int i = 0; i < kEvents / 50; ++i) Send(R"({"generate":{"count":50}})");
  });
  std::vector<v1::Event> received;
  v1::Event event;
  // The bind's lifecycle event comes first; only webhook events are counted here.
  while (static_cast<int>(received.size()) < kEvents / 2 && reader->Read(&event)) {
    if (!event.has_lifecycle()) received.push_back(event);
  }
  // The consumer disconnects half way and resumes from the last cursor it saw.
  context->TryCancel();
  reader->Finish();
  ASSERT_EQ(static_cast<int>(received.size()), kEvents / 2);
  auto context2 = std::make_unique<grpc::ClientContext>();
  context2->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  request.set_after_cursor(received.back().cursor());
  auto reader2 = channeld_->stub().StreamEvents(context2.get(), request);
  while (static_cast<int>(received.size()) < kEvents && reader2->Read(&event)) {
    if (!event.has_lifecycle()) received.push_back(event);
  }
  sender.join();
  context2->TryCancel();
  reader2->Finish();

  ASSERT_THAT(received, SizeIs(kEvents));
  std::set<std::string> ids;
  for (size_t i = 0; i < received.size(); ++i) {
    if (i > 0) {
      EXPECT_GT(received[i].cursor(), received[i - 1].cursor());
    }
    ids.insert(received[i].webhook_event_id());
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kEvents));
  // And it is exactly what the store holds.
  const auto stored = Events();
  ASSERT_THAT(stored, SizeIs(kEvents));
  for (size_t i = 0; i < stored.size(); ++i) EXPECT_EQ(stored[i].cursor(), received[i].cursor());
}

TEST_F(WebhookTest, StreamsAreLimitedToTheTeamAndChannel) {
  // Another team's channel gets events too.
  v1::BindChannelResponse other;
  ASSERT_TRUE(channeld_->stub()
                  .BindChannel(Context().get(), BindRequestFor(Channel2(), "team-b"), &other)
                  .ok());
  ASSERT_TRUE(line_
                  ->Control("PATCH", "/fake/channels/" + Channel2().channel_id,
                            absl::StrCat(R"({"webhook_endpoint":")", other.channel().webhook_url(),
                                         R"("})"))
                  .ok());
  Send(R"({"generate":{"count":2}})", Channel2());
  Send(R"({"generate":{"count":3}})", Channel1());
  EXPECT_THAT(Events(), SizeIs(3));
  EXPECT_THAT(Events(Channel2().channel_id), SizeIs(0));

  v1::ListEventsRequest bad;
  bad.set_team_id(kTeam);
  bad.set_after_cursor(-1);
  v1::ListEventsResponse response;
  const grpc::Status status = channeld_->stub().ListEvents(Context().get(), bad, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(status), ::testing::ElementsAre("after_cursor"));
}

class WebhookStorageTest : public WebhookTest {
 protected:
  std::vector<std::string> Flags() override { return {"--store_busy_timeout=200ms"}; }
};

TEST_F(WebhookStorageTest, StorageThatCannotCommitGets503AndRecoversByItself) {
  {
    // Another process holds the database's write lock longer than the busy timeout.
    SQLite::Database blocker(channeld_->db_path(), SQLite::OPEN_READWRITE);
    blocker.exec("BEGIN IMMEDIATE");
    const std::string report = Send(R"({"generate":{"count":2}})");
    EXPECT_EQ(JsonField(report, "/status"), "503") << report;
    blocker.exec("ROLLBACK");
  }
  EXPECT_THAT(Events(), SizeIs(0));
  // LINE redelivers later; the lock is gone and the events are stored.
  const std::string report = Send(R"({"generate":{"count":2}})");
  EXPECT_EQ(JsonField(report, "/status"), "200") << report;
  EXPECT_THAT(Events(), SizeIs(2));
}

class WebhookTimeoutTest : public WebhookTest {
 protected:
  std::vector<std::string> Flags() override {
    return {"--webhook_header_timeout=1s", "--webhook_body_timeout=1s",
            "--webhook_idle_timeout=1s"};
  }
};

TEST_F(WebhookTimeoutTest, StalledClientsAreCutAndOthersAreServed) {
  boost::asio::io_context io;
  const boost::asio::ip::tcp::endpoint endpoint = WebhookEndpoint();
  // One client stops half way through its headers, another after its headers.
  boost::asio::ip::tcp::socket header_staller(io);
  header_staller.connect(endpoint);
  boost::asio::write(header_staller,
                     boost::asio::buffer(std::string("POST /line/webhook/x HTTP/1.1\r\nHo")));
  boost::asio::ip::tcp::socket body_staller(io);
  body_staller.connect(endpoint);
  const std::string path = url_.substr(url_.find("/line/"));
  boost::asio::write(body_staller,
                     boost::asio::buffer(absl::StrCat("POST ", path,
                                                      " HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                                      "100\r\n\r\n{")));
  // Meanwhile real webhooks are served.
  EXPECT_EQ(JsonField(Send(R"({"generate":{"count":1}})"), "/status"), "200");
  // Both stalled connections are closed by the server (read returns EOF, not a hang).
  for (auto* socket : {&header_staller, &body_staller}) {
    std::string rest(256, '\0');
    boost::system::error_code ec;
    const absl::Time start = absl::Now();
    socket->read_some(boost::asio::buffer(rest), ec);
    EXPECT_TRUE(ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset)
        << ec.message();
    EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  }
  EXPECT_THAT(Events(), SizeIs(1));
}

}  // namespace
}  // namespace linechannel::testing
