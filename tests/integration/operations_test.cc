// Running it in production: key rotation under traffic, SIGTERM during webhook load, limits,
// metrics and a prompt, clean shutdown; against the real channeld and fake LINE platform.

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <boost/asio.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/support/json_field.h"

namespace linechannel::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kTeam[] = "team-a";

// The x-request-id trailer of a finished call, or "".
std::string RequestIdOf(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  const auto it = trailers.find("x-request-id");
  return it == trailers.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

// The lines of `log` whose request_id is `request_id`.
std::vector<std::string> LogLinesOf(const std::string& log, const std::string& request_id) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    if (JsonField(std::string(line), "/request_id") == request_id) lines.emplace_back(line);
  }
  return lines;
}

class OperationsTest : public ServiceTest {
 protected:
  // Binds the fixture channel and points LINE at its URL.
  std::string BindAndRegister(const FixtureChannel& channel) {
    v1::BindChannelRequest request = BindRequestFor(channel, kTeam);
    request.set_set_webhook_url(true);
    v1::BindChannelResponse bound;
    const grpc::Status status = channeld_->stub().BindChannel(Context().get(), request, &bound);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return bound.channel().webhook_url();
  }

  // POSTs one signed event for Channel1; the HTTP status, or 0 without an answer.
  int PostEvent(const std::string& url, const std::string& id) {
    return PostSignedWebhookStatus(url, Channel1().secret,
                                   WebhookBody(Channel1().bot_user_id, MessageEventJson(id)),
                                   absl::Seconds(10));
  }

  std::set<std::string> StoredIds() {
    std::set<std::string> ids;
    v1::ListEventsRequest request;
    request.set_team_id(kTeam);
    request.set_page_size(1000);
    while (true) {
      v1::ListEventsResponse response;
      if (!channeld_->stub().ListEvents(Context().get(), request, &response).ok()) break;
      if (response.events().empty()) break;
      for (const auto& e : response.events()) {
        if (!e.has_lifecycle()) ids.insert(e.webhook_event_id());
      }
      request.set_after_cursor(response.next_cursor());
    }
    return ids;
  }
};

TEST_F(OperationsTest, KeyRotationUnderLiveTrafficFailsNoRead) {
  const std::string url = BindAndRegister(Channel1());
  BindAndRegister(Channel2());
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0};
  std::atomic<int> failed_reads{0};
  std::atomic<int> webhooks{0};
  std::atomic<int> failed_webhooks{0};
  std::vector<std::thread> traffic;
  for (int t = 0; t < 2; ++t) {
    traffic.emplace_back([&] {
      while (!stop) {
        v1::GetChannelRequest get;
        get.set_team_id(kTeam);
        get.set_channel_id(Channel1().channel_id);
        v1::Channel channel;
        (channeld_->stub().GetChannel(Context().get(), get, &channel).ok() ? reads
                                                                           : failed_reads)++;
      }
    });
  }
  traffic.emplace_back([&, n = 0]() mutable {
    // Every webhook needs the sealed secret opened: through old key, then new.
    while (!stop)
      (PostEvent(url, absl::StrCat("01JROTATE", n++)) == 200 ? webhooks : failed_webhooks)++;
  });

  v1::ListSealingKeysResponse before;
  ASSERT_TRUE(channeld_->admin_stub()
                  .ListSealingKeys(Context().get(), v1::ListSealingKeysRequest(), &before)
                  .ok());
  ASSERT_EQ(before.keys_size(), 1);
  const std::string old_key = before.keys(0).key_id();
  EXPECT_EQ(before.keys(0).sealed_values(), 4);  // Two bindings, a secret and a token each.
  while (reads < 50 || webhooks < 10) absl::SleepFor(absl::Milliseconds(5));

  v1::RotateSealingKeyResponse rotated;
  grpc::Status status = channeld_->admin_stub().RotateSealingKey(
      Context().get(), v1::RotateSealingKeyRequest(), &rotated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(rotated.resealed_values(), 4);
  const int reads_at_rotation = reads;
  while (reads < reads_at_rotation + 50) absl::SleepFor(absl::Milliseconds(5));

  v1::RetireSealingKeyRequest retire;
  retire.set_key_id(rotated.new_key_id());
  v1::RetireSealingKeyResponse retired;
  status = channeld_->admin_stub().RetireSealingKey(Context().get(), retire, &retired);
  EXPECT_EQ(Reason(status), "KEY_IS_CURRENT");
  retire.set_key_id(old_key);
  status = channeld_->admin_stub().RetireSealingKey(Context().get(), retire, &retired);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(retired.keys_size(), 1);
  EXPECT_EQ(retired.keys(0).key_id(), rotated.new_key_id());
  EXPECT_EQ(retired.keys(0).sealed_values(), 4);

  stop = true;
  for (auto& t : traffic) t.join();
  EXPECT_EQ(failed_reads, 0);
  EXPECT_EQ(failed_webhooks, 0);
  EXPECT_GT(reads, 100);

  // The key file now holds only the new key, and a restart opens everything with it.
  const std::string key_file = ReadFile(channeld_->data_dir() + "/sealing.key");
  EXPECT_THAT(key_file, HasSubstr(rotated.new_key_id()));
  EXPECT_THAT(key_file, ::testing::Not(HasSubstr(old_key)));
  ASSERT_TRUE(channeld_->Restart().ok());
  EXPECT_EQ(PostEvent(url, "01JAFTERRESTART"), 200);
  v1::BindChannelResponse again;
  ASSERT_TRUE(channeld_->stub()
                  .BindChannel(Context().get(), BindRequestFor(Channel1(), kTeam), &again)
                  .ok());
  EXPECT_TRUE(again.already_bound());  // The sealed secret and token opened and compared.
}

TEST_F(OperationsTest, SigtermDuringWebhookLoadLosesNoAcknowledgedEvent) {
  const std::string url = BindAndRegister(Channel1());
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<int> sent{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> senders;
  for (int s = 0; s < 4; ++s) {
    senders.emplace_back([&, s] {
      for (int i = 0; !stop; ++i) {
        const std::string id = absl::StrCat("01JSIG", s, "X", i);
        ++sent;
        if (PostEvent(url, id) == 200) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.insert(id);
        }
      }
    });
  }
  while (sent < 200) absl::SleepFor(absl::Milliseconds(2));
  const absl::Time stopping = absl::Now();
  auto stopped = channeld_->Stop();
  // Requests in flight are answered, not left to the grace period.
  EXPECT_LT(absl::Now() - stopping, absl::Seconds(5));
  ASSERT_TRUE(stopped.ok());
  EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0);
  stop = true;
  for (auto& t : senders) t.join();
  ASSERT_TRUE(channeld_->Restart().ok());
  const std::set<std::string> stored = StoredIds();
  ASSERT_GT(acknowledged.size(), 100u);
  for (const std::string& id : acknowledged) EXPECT_EQ(stored.count(id), 1u) << id;
}

TEST_F(OperationsTest, ShutdownIsPromptWithIdleClientsConnected) {
  // A client that made a call and keeps its connection open, as other services do.
  v1::ListChannelsRequest list;
  list.set_team_id(kTeam);
  v1::ListChannelsResponse listed;
  auto idle = channeld_->StubWithToken(channeld_->admin_token());
  ASSERT_TRUE(idle->ListChannels(Context().get(), list, &listed).ok());
  const absl::Time start = absl::Now();
  auto stopped = channeld_->Stop();
  ASSERT_TRUE(stopped.ok());
  EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(OperationsTest, ShutdownFinishesRunningRequestsAndRefusesNewOnes) {
  // LINE is slow, so a bind is still running when SIGTERM comes.
  ASSERT_TRUE(line_->Control("PATCH", "/fake/faults", R"({"delay_ms":700})").ok());
  grpc::Status bind_status;
  absl::Notification bind_done;
  std::thread bind([&] {
    v1::BindChannelResponse bound;
    bind_status =
        channeld_->stub().BindChannel(Context().get(), BindRequestFor(Channel1(), kTeam), &bound);
    bind_done.Notify();
  });
  // Wait until the bind is talking to LINE.
  const absl::Time wait_until = absl::Now() + absl::Seconds(10);
  while (JsonField(line_->Control("GET", "/fake/channels/" + Channel1().channel_id)->body,
                   "/calls/token") != "1" &&
         absl::Now() < wait_until) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  // A channel of its own: after the shutdown it backs off from the dead address, and a shared
  // subchannel would make the restarted server's first call fail fast with "connection refused".
  auto channel = OwnChannel(channeld_->grpc_address());
  auto health = grpc::health::v1::Health::NewStub(channel);
  const absl::Time start = absl::Now();
  kill(channeld_->pid(), SIGTERM);
  bind_done.WaitForNotification();
  EXPECT_TRUE(bind_status.ok()) << bind_status.error_message();
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status check = health->Check(Context(absl::Seconds(2)).get(), {}, &response);
  EXPECT_TRUE(!check.ok() ||
              response.status() == grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  bind.join();
  auto stopped = channeld_->Stop();
  ASSERT_TRUE(stopped.ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
  ASSERT_TRUE(channeld_->Restart().ok());
  v1::GetChannelRequest get;
  get.set_team_id(kTeam);
  get.set_channel_id(Channel1().channel_id);
  v1::Channel got;
  EXPECT_TRUE(channeld_->stub().GetChannel(Context().get(), get, &got).ok());
}

TEST_F(OperationsTest, MetricsCountWhatHappened) {
  const std::string url = BindAndRegister(Channel1());
  EXPECT_EQ(PostEvent(url, "01JMETRIC1"), 200);
  EXPECT_EQ(PostEvent(url, "01JMETRIC1"), 200);  // A duplicate.
  auto bad = HttpCall("POST", url, "{}", {{"x-line-signature", "wrong"}});
  ASSERT_TRUE(bad.ok());
  auto metrics = HttpCall("GET", "http://" + channeld_->admin_address() + "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  const std::string& text = metrics->body;
  EXPECT_THAT(text, HasSubstr(R"(channeld_rpc_requests_total{method="BindChannel",code="OK"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(channeld_webhook_requests_total{status="200"} 2)"));
  EXPECT_THAT(text, HasSubstr(R"(channeld_webhook_requests_total{status="401"} 1)"));
  EXPECT_THAT(text, HasSubstr("channeld_events_stored_total 1\n"));
  EXPECT_THAT(text, HasSubstr("channeld_events_duplicate_total 1\n"));
  EXPECT_THAT(text, HasSubstr("channeld_webhook_bad_signatures_total{binding_id="));
  EXPECT_THAT(text, HasSubstr("channeld_store_commit_latency_seconds_bucket{le=\"+Inf\"}"));
  EXPECT_THAT(text, HasSubstr("# TYPE channeld_rpc_latency_seconds histogram"));
  auto healthz = HttpCall("GET", "http://" + channeld_->admin_address() + "/healthz");
  ASSERT_TRUE(healthz.ok());
  EXPECT_EQ(healthz->status, 200);
}

// What a support person starts from: the x-request-id of an answer, successful or refused,
// unary or streaming, finds that RPC's log line. It comes in the trailers, so that an error
// stays a trailers-only answer that clients' retry policies may retry.
TEST_F(OperationsTest, EveryAnswerCarriesTheRequestIdOfItsLogLine) {
  BindAndRegister(Channel1());
  const absl::StatusOr<std::string> other_team = channeld_->AddCaller("inbox-b", "team-b");
  ASSERT_TRUE(other_team.ok()) << other_team.status();
  const auto team_b = channeld_->StubWithToken(*other_team);
  const auto unknown = channeld_->StubWithToken("not-a-token-of-this-server");

  v1::GetChannelRequest get;
  get.set_team_id(kTeam);
  get.set_channel_id(Channel1().channel_id);
  struct Call {
    std::string what;
    grpc::Status status;
    std::string request_id;
  };
  std::vector<Call> calls;
  for (auto& [what, stub] :
       {std::pair<std::string, v1::ChannelService::Stub*>{"admin", &channeld_->stub()},
        {"unknown token", unknown.get()},
        {"other team", team_b.get()}}) {
    const auto context = Context();
    v1::Channel channel;
    const grpc::Status status = stub->GetChannel(context.get(), get, &channel);
    calls.push_back({what, status, RequestIdOf(*context)});
    EXPECT_EQ(context->GetServerInitialMetadata().count("x-request-id"), 0u) << what;
  }
  {
    v1::StreamEventsRequest stream;
    stream.set_team_id(kTeam);
    const auto context = Context();
    const auto reader = unknown->StreamEvents(context.get(), stream);
    v1::Event event;
    while (reader->Read(&event)) {
    }
    const grpc::Status status = reader->Finish();
    calls.push_back({"stream, unknown token", status, RequestIdOf(*context)});
  }

  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].status.error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(calls[1].status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(calls[2].status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(calls[3].status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  std::set<std::string> ids;
  for (const Call& call : calls) {
    EXPECT_THAT(call.request_id, ::testing::MatchesRegex("[A-Za-z0-9_-]{11}")) << call.what;
    ids.insert(call.request_id);
  }
  EXPECT_EQ(ids.size(), calls.size()) << "every RPC gets an id of its own";

  // Each id is in exactly one log line, and that line tells of its call.
  const std::string log = channeld_->ReadLogOnceItHas(calls.back().request_id);
  std::vector<std::string> line_of;
  for (const Call& call : calls) {
    const std::vector<std::string> lines = LogLinesOf(log, call.request_id);
    ASSERT_EQ(lines.size(), 1u) << call.what << "\n" << log;
    line_of.push_back(lines[0]);
  }
  const auto field = [&](int call, const char* pointer) {
    return JsonField(line_of[call], pointer);
  };
  EXPECT_EQ(field(0, "/method"), "GetChannel");
  EXPECT_EQ(field(0, "/code"), "");
  EXPECT_EQ(field(0, "/channel_id"), Channel1().channel_id);
  EXPECT_EQ(field(1, "/code"), "UNAUTHENTICATED");
  EXPECT_EQ(field(2, "/code"), "PERMISSION_DENIED");
  EXPECT_EQ(field(2, "/reason"), "TEAM_NOT_ALLOWED");
  EXPECT_EQ(field(2, "/caller"), "inbox-b");
  EXPECT_EQ(field(3, "/method"), "StreamEvents");
  EXPECT_EQ(field(3, "/code"), "UNAUTHENTICATED");
}

class LimitsTest : public OperationsTest {
 protected:
  std::vector<std::string> Flags() override {
    return {"--webhook_max_connections=4", "--grpc_max_message_bytes=8192",
            "--max_event_streams=1"};
  }
};

TEST_F(LimitsTest, AFullWebhookPortMakesRoomInsteadOfRefusingTheNewcomer) {
  // Four connections that never send a byte fill the webhook port. A fifth is not refused:
  // the one that has waited longest without a request is closed to make room (issue 16).
  boost::asio::io_context io;
  const std::string& address = channeld_->webhook_address();
  const boost::asio::ip::tcp::endpoint endpoint(
      boost::asio::ip::make_address("127.0.0.1"),
      static_cast<unsigned short>(std::stoi(address.substr(address.rfind(':') + 1))));
  std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<boost::asio::ip::tcp::socket>(io));
    held.back()->connect(endpoint);
  }
  absl::StatusOr<HttpResponse> served =
      HttpCall("GET", "http://" + address + "/healthz", "", {}, absl::Seconds(3));
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(served->status, 200);
  // The oldest held connection was closed by the server: reading it ends at once.
  char byte = 0;
  boost::system::error_code read_error;
  boost::asio::read(*held.front(), boost::asio::buffer(&byte, 1), read_error);
  EXPECT_EQ(read_error, boost::asio::error::eof) << read_error.message();
  auto metrics = HttpCall("GET", "http://" + channeld_->admin_address() + "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_THAT(metrics->body,
              HasSubstr("channeld_http_connections_evicted_total{server=\"webhook\""));
  held.clear();

  // A request bigger than the gRPC limit.
  v1::BindChannelRequest big = BindRequestFor(Channel1(), kTeam);
  big.set_app_name(std::string(10000, 'x'));
  v1::BindChannelResponse response;
  EXPECT_EQ(channeld_->stub().BindChannel(Context().get(), big, &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  // One event stream at most.
  auto first_context = Context(absl::Seconds(5));
  v1::StreamEventsRequest stream;
  stream.set_team_id(kTeam);
  auto first = channeld_->stub().StreamEvents(first_context.get(), stream);
  // The first stream is open once its (empty) backlog has been read: its initial metadata.
  first->WaitForInitialMetadata();
  auto second_context = Context(absl::Seconds(5));
  auto second = channeld_->stub().StreamEvents(second_context.get(), stream);
  v1::Event event;
  EXPECT_FALSE(second->Read(&event));
  const grpc::Status second_status = second->Finish();
  EXPECT_EQ(second_status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Refused after admission, and still logged under the id its answer carries.
  const std::string request_id = RequestIdOf(*second_context);
  ASSERT_FALSE(request_id.empty());
  const std::string log = channeld_->ReadLogOnceItHas(request_id);
  const std::vector<std::string> lines = LogLinesOf(log, request_id);
  ASSERT_EQ(lines.size(), 1u) << log;
  EXPECT_EQ(JsonField(lines[0], "/method"), "StreamEvents");
  EXPECT_EQ(JsonField(lines[0], "/reason"), "OVERLOADED");
  first_context->TryCancel();
  first->Finish();
}

TEST_F(OperationsTest, TheCallersDeadlineStopsTheWork) {
  // LINE answers in 2 s; the caller gives up after 500 ms.
  ASSERT_TRUE(line_->Control("PATCH", "/fake/faults", R"({"delay_ms":2000})").ok());
  const absl::Time start = absl::Now();
  v1::BindChannelResponse response;
  const grpc::Status status = channeld_->stub().BindChannel(
      Context(absl::Milliseconds(500)).get(), BindRequestFor(Channel1(), kTeam), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  ASSERT_TRUE(line_->Control("PATCH", "/fake/faults", R"({"delay_ms":0})").ok());
  // The server stopped too: after LINE's answer would have come, nothing was bound.
  absl::SleepFor(absl::Seconds(2));
  v1::ListChannelsRequest list;
  list.set_team_id(kTeam);
  v1::ListChannelsResponse listed;
  ASSERT_TRUE(channeld_->stub().ListChannels(Context().get(), list, &listed).ok());
  EXPECT_EQ(listed.channels_size(), 0);
}

}  // namespace
}  // namespace linechannel::testing
