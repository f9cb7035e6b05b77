// Hostile input against the real channeld: slowloris while real webhooks flow, oversized and
// malformed HTTP, invalid UTF-8 and deeply nested JSON under a valid signature, and every gRPC
// field at its limit and just beyond. Each gets its documented answer (README, "The webhook
// endpoint" and "Errors"), and after each group the service is still healthy: Health/Check
// says SERVING and a normal webhook gets 200.

#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/integration/slow_clients.h"

namespace linechannel::testing {
namespace {

using ::testing::ElementsAre;

constexpr char kTeam[] = "team-a";
constexpr absl::Duration kStallTimeout = absl::Seconds(2);
constexpr int kMaxBodyBytes = 65536;

// What one raw TCP exchange with the webhook port got back.
struct RawResult {
  std::string received;
  // The server closed the connection (EOF or reset) rather than our wait running out.
  bool closed = false;
  absl::Duration elapsed;

  // The status codes of every HTTP response in `received`, in order.
  std::vector<int> Statuses() const {
    std::vector<int> statuses;
    for (size_t at = 0; (at = received.find("HTTP/1.1 ", at)) != std::string::npos; at += 9) {
      int status = 0;
      if (absl::SimpleAtoi(received.substr(at + 9, 3), &status)) statuses.push_back(status);
    }
    return statuses;
  }
};

// Connects to 127.0.0.1:`port`, sends `bytes` (a write error after the server closed is not an
// error), then reads until the server closes or `wait` passes.
RawResult RawExchange(int port, const std::string& bytes, absl::Duration wait = absl::Seconds(10)) {
  RawResult result;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    ADD_FAILURE() << "socket: " << errno;
    return result;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ADD_FAILURE() << "connect: " << errno;
    close(fd);
    return result;
  }
  const absl::Time start = absl::Now();
  for (size_t sent = 0; sent < bytes.size();) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // The server may close before it has read everything.
    sent += static_cast<size_t>(n);
  }
  const absl::Time deadline = start + wait;
  char buffer[65536];
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n > 0) {
      result.received.append(buffer, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    result.closed = true;  // EOF, or a reset after the server closed with our bytes unread.
    break;
  }
  result.elapsed = absl::Now() - start;
  close(fd);
  return result;
}

// A TLS 1.2 ClientHello, as a client configured for https:// sends first.
std::string TlsClientHello() {
  std::string hello_body;
  hello_body += std::string("\x03\x03", 2);                  // client_version TLS 1.2
  hello_body += std::string(32, '\x42');                     // random
  hello_body += std::string("\x00", 1);                      // no session id
  hello_body += std::string("\x00\x04\xc0\x2f\xc0\x2b", 6);  // two ECDHE-GCM suites
  hello_body += std::string("\x01\x00", 2);                  // null compression
  const std::string sni = "localhost";
  std::string server_name;
  server_name +=
      std::string("\x00", 1) + static_cast<char>(0) + static_cast<char>(sni.size()) + sni;
  std::string sni_ext = std::string("\x00\x00", 2);
  sni_ext += static_cast<char>(0);
  sni_ext += static_cast<char>(server_name.size() + 2);
  sni_ext += static_cast<char>(0);
  sni_ext += static_cast<char>(server_name.size());
  sni_ext += server_name;
  hello_body += static_cast<char>(0);
  hello_body += static_cast<char>(sni_ext.size());
  hello_body += sni_ext;
  std::string handshake = std::string("\x01\x00", 2);
  handshake += static_cast<char>(hello_body.size() >> 8);
  handshake += static_cast<char>(hello_body.size() & 0xff);
  handshake += hello_body;
  std::string client_hello = std::string("\x16\x03\x01", 3);
  client_hello += static_cast<char>(handshake.size() >> 8);
  client_hello += static_cast<char>(handshake.size() & 0xff);
  client_hello += handshake;

  return client_hello;
}

class HostileInputTest : public ServiceTest {
 protected:
  // Short stall timeouts so the tests need not wait three seconds; room for a thousand slow
  // connections plus real traffic (see Slowloris); a small body limit so oversized bodies are
  // cheap to send.
  std::vector<std::string> Flags() override {
    return {"--webhook_header_timeout=2s", "--webhook_body_timeout=2s", "--webhook_idle_timeout=2s",
            "--webhook_max_connections=4096",
            absl::StrCat("--webhook_max_body_bytes=", kMaxBodyBytes)};
  }

  void SetUp() override {
    ServiceTest::SetUp();
    if (HasFatalFailure()) return;
    url_ = BindForWebhooks(*channeld_, Channel1(), kTeam);
    if (HasFatalFailure()) return;
    path_ = url_.substr(url_.find("/line/webhook/"));
    const std::string& address = channeld_->webhook_address();
    port_ = std::stoi(address.substr(address.rfind(':') + 1));
  }

  static std::string Body(const std::string& events) {
    return WebhookBody(Channel1().bot_user_id, events);
  }

  // A whole signed webhook request for the bound channel, as raw HTTP.
  std::string SignedRequest(const std::string& body) const {
    return absl::StrCat(
        "POST ", path_, " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
        "Content-Length: ", body.size(),
        "\r\nx-line-signature: ", TestSignature(Channel1().secret, body), "\r\n\r\n", body);
  }

  // POSTs a body with a valid signature; the HTTP status (0 without an answer).
  int PostSigned(const std::string& body, absl::Duration timeout = absl::Seconds(30)) {
    return PostSignedWebhookStatus(url_, Channel1().secret, body, timeout);
  }

  int StoredEvents() { return static_cast<int>(ListAllEvents(channeld_->stub(), kTeam).size()); }

  // The service is healthy: SERVING, and a normal webhook is answered 200 and stored.
  void ExpectHealthy(const std::string& after) {
    SCOPED_TRACE("health after " + after);
    auto health = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(channeld_->grpc_address(), grpc::InsecureChannelCredentials()));
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = health->Check(Context().get(), {}, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    const int before = StoredEvents();
    EXPECT_EQ(PostSigned(Body(MessageEventJson(absl::StrCat("01JHEALTHY", ++healthy_checks_)))),
              200);
    EXPECT_EQ(StoredEvents(), before + 1);
  }

  std::string url_;
  std::string path_;
  int port_ = 0;
  int healthy_checks_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Slowloris.

// --webhook_max_connections is 4096 here: this test is about the header timeout below the
// connection cap, so nothing is evicted; flood_test.cc floods past the cap.
TEST_F(HostileInputTest, SlowlorisDoesNotHoldUpRealWebhooks) {
  constexpr int kSlowConnections = 1000;
  const rlim_t files = RaiseFileLimit();
  ASSERT_GE(files, static_cast<rlim_t>(kSlowConnections + 500))
      << "the hard limit on open files (ulimit -Hn) is too low for " << kSlowConnections
      << " connections";

  const std::string head = absl::StrCat("POST ", path_, " HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  Slowloris slowloris(port_, head, kSlowConnections);
  // Wait until all of them are open, then keep real webhooks flowing for three header
  // timeouts, so every slow connection is cut (and replaced) at least once meanwhile.
  const absl::Time open_deadline = absl::Now() + absl::Seconds(30);
  while (slowloris.stats().opened < kSlowConnections && absl::Now() < open_deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_GE(slowloris.stats().opened, kSlowConnections);

  std::vector<int64_t> latencies_us;
  std::vector<std::string> failures;
  absl::Mutex mu;
  std::atomic<int> sent{0};
  const absl::Time until = absl::Now() + 3 * kStallTimeout + absl::Milliseconds(500);
  std::vector<std::thread> senders;
  for (int s = 0; s < 2; ++s) {
    senders.emplace_back([&, s] {
      for (int i = 0; absl::Now() < until; ++i) {
        const std::string body = Body(MessageEventJson(absl::StrFormat("01JREAL%d-%06d", s, i)));
        const absl::Time start = absl::Now();
        // LINE gives up after 2 s: that is the bound every real webhook must meet.
        auto response = HttpCall("POST", url_, body,
                                 {{"x-line-signature", TestSignature(Channel1().secret, body)}},
                                 absl::Seconds(2));
        const absl::Duration took = absl::Now() - start;
        ++sent;
        absl::MutexLock lock(&mu);
        latencies_us.push_back(absl::ToInt64Microseconds(took));
        if (!response.ok() || response->status != 200) {
          failures.push_back(absl::StrCat(response.ok() ? absl::StrCat("HTTP ", response->status)
                                                        : response.status().ToString(),
                                          " after ", absl::FormatDuration(took)));
        }
      }
    });
  }
  for (std::thread& t : senders) t.join();
  const Slowloris::Stats stats = slowloris.stats();
  slowloris.Stop();

  std::printf(
      "slowloris: %d slow connections (%d at most at once, %d opened in all, %d connect "
      "failures), %d cut by the server (%d of the first %d), longest lived %s; %d real "
      "webhooks meanwhile: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
      kSlowConnections, stats.max_open, stats.opened, stats.connect_failures, stats.cut,
      stats.first_cut, kSlowConnections, absl::FormatDuration(stats.longest).c_str(), sent.load(),
      Percentile(latencies_us, 0.5) / 1000.0, Percentile(latencies_us, 0.99) / 1000.0,
      Percentile(latencies_us, 1.0) / 1000.0);
  EXPECT_THAT(failures, ::testing::IsEmpty());
  EXPECT_GT(sent.load(), 0);
  // Every slow connection was cut by the header timeout, without an answer.
  EXPECT_EQ(stats.first_cut, kSlowConnections);
  EXPECT_EQ(stats.answered, 0) << stats.an_answer;
  EXPECT_EQ(stats.connect_failures, 0);
  EXPECT_LT(stats.longest, kStallTimeout + absl::Seconds(5));
  EXPECT_EQ(StoredEvents(), sent.load());
  ExpectHealthy("slowloris");
}

// ---------------------------------------------------------------------------------------------
// Oversized and malformed HTTP.

TEST_F(HostileInputTest, MalformedHttpGets400AndOversizedHttpItsLimit) {
  const std::string good_head = absl::StrCat("POST ", path_, " HTTP/1.1\r\nHost: x\r\n");
  const std::string signature_header =
      absl::StrCat("x-line-signature: ", TestSignature(Channel1().secret, "{}"), "\r\n");
  std::string many_headers;
  for (int i = 0; i < 200; ++i)
    absl::StrAppend(&many_headers, "X-Header-", i, ": ", std::string(90, 'v'), "\r\n");
  std::string binary;
  for (int i = 0; i < 2048; ++i) binary.push_back(static_cast<char>((i * 37 + 11) % 256));
  std::string binary_without_line_ends;
  for (int i = 0; i < 20000; ++i) {
    char c = static_cast<char>((i * 53 + 7) % 256);
    if (c == '\r' || c == '\n') c = 'x';
    binary_without_line_ends.push_back(c);
  }
  std::string oversized_chunks;
  for (int i = 0; i < 20; ++i)
    absl::StrAppend(&oversized_chunks, "1000\r\n", std::string(4096, ' '), "\r\n");
  absl::StrAppend(&oversized_chunks, "0\r\n\r\n");

  struct Case {
    std::string name;
    std::string bytes;
    int status;  // The one answer expected, after which the server closes.
  };
  const std::vector<Case> cases = {
      {"bad request line", "THIS IS NOT HTTP\r\n\r\n", 400},
      {"bad method characters", absl::StrCat("PO(ST ", path_, " HTTP/1.1\r\n\r\n"), 400},
      {"bad HTTP version", absl::StrCat("POST ", path_, " HTTP/7.3\r\nHost: x\r\n\r\n"), 400},
      {"header name with a space", absl::StrCat(good_head, "Bad Header: v\r\n\r\n"), 400},
      {"header line over 16 KiB",
       absl::StrCat(good_head, "X-Long: ", std::string(17 * 1024, 'a'), "\r\n\r\n"), 431},
      {"headers over 16 KiB in all", absl::StrCat(good_head, many_headers, "\r\n"), 431},
      {"bad chunked encoding",
       absl::StrCat(good_head, signature_header, "Transfer-Encoding: chunked\r\n\r\n",
                    "XYZ\r\nhello\r\n0\r\n\r\n"),
       400},
      {"chunked body over the limit",
       absl::StrCat(good_head, signature_header, "Transfer-Encoding: chunked\r\n\r\n",
                    oversized_chunks),
       413},
      {"Content-Length that overflows",
       absl::StrCat(good_head, signature_header,
                    "Content-Length: 99999999999999999999999999\r\n\r\n{}"),
       400},
      {"huge Content-Length",
       absl::StrCat(good_head, signature_header, "Content-Length: 1000000000000\r\n\r\n"), 413},
      {"negative Content-Length",
       absl::StrCat(good_head, signature_header, "Content-Length: -2\r\n\r\n{}"), 400},
      {"two different Content-Lengths",
       absl::StrCat(good_head, signature_header,
                    "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}"),
       400},
      {"body over the limit, sent whole as LINE would",
       absl::StrCat(good_head, signature_header, "Content-Length: ", 16 * kMaxBodyBytes, "\r\n\r\n",
                    std::string(16 * kMaxBodyBytes, ' ')),
       413},
      {"unknown webhook key, with a large body",
       absl::StrCat("POST /line/webhook/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: x\r\n",
                    signature_header, "Content-Length: ", 16 * kMaxBodyBytes, "\r\n\r\n",
                    std::string(16 * kMaxBodyBytes, ' ')),
       404},
      {"non-HTTP bytes", absl::StrCat(binary, "\r\n\r\n"), 400},
      {"non-HTTP bytes without line ends, over 16 KiB", binary_without_line_ends, 400},
      {"TLS ClientHello to the plain port", TlsClientHello(), 400},
  };
  for (const Case& c : cases) {
    const RawResult result = RawExchange(port_, c.bytes);
    EXPECT_THAT(result.Statuses(), ElementsAre(c.status))
        << c.name << ": got \"" << result.received.substr(0, 200) << "\"";
    EXPECT_TRUE(result.closed) << c.name << ": the connection was left open";
  }
  EXPECT_EQ(StoredEvents(), 0);
  ExpectHealthy("malformed HTTP");
}

TEST_F(HostileInputTest, StalledRequestsAreCutWithoutAnAnswer) {
  struct Case {
    std::string name;
    std::string bytes;
  };
  const std::vector<Case> cases = {
      {"headers that never end", absl::StrCat("POST ", path_, " HTTP/1.1\r\nHost: x\r\nX-A: b")},
      {"body shorter than Content-Length, then a stall",
       absl::StrCat("POST ", path_, " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n",
                    "x-line-signature: x\r\n\r\n{\"destination\":")},
      {"connected, nothing sent", ""},
  };
  // All at once: each waits out the timeout.
  std::vector<RawResult> results(cases.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < cases.size(); ++i) {
    threads.emplace_back(
        [&, i] { results[i] = RawExchange(port_, cases[i].bytes, absl::Seconds(15)); });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const RawResult& result = results[i];
    EXPECT_TRUE(result.closed) << c.name << ": not cut within 15 s";
    EXPECT_EQ(result.received, "") << c.name << ": a stalled request got an answer";
    EXPECT_GE(result.elapsed, kStallTimeout - absl::Milliseconds(100)) << c.name;
  }
  EXPECT_EQ(StoredEvents(), 0);
  ExpectHealthy("stalled requests");
}

TEST_F(HostileInputTest, PipelinedGarbageAfterAGoodRequestGets400AfterIts200) {
  const std::string request = SignedRequest(Body(MessageEventJson("01JPIPELINED")));
  const RawResult result = RawExchange(port_, absl::StrCat(request, "GARBAGE\r\n\r\n"));
  EXPECT_THAT(result.Statuses(), ElementsAre(200, 400)) << result.received;
  EXPECT_TRUE(result.closed);
  // Two good ones then garbage on one connection: both stored, then 400.
  const RawResult two =
      RawExchange(port_, absl::StrCat(SignedRequest(Body(MessageEventJson("01JPIPELINED2"))),
                                      SignedRequest(Body(MessageEventJson("01JPIPELINED3"))),
                                      "\x01\x02\x03\r\n\r\n"));
  EXPECT_THAT(two.Statuses(), ElementsAre(200, 200, 400)) << two.received;
  EXPECT_EQ(StoredEvents(), 3);
  ExpectHealthy("pipelined garbage");
}

// ---------------------------------------------------------------------------------------------
// Invalid UTF-8 and deeply nested JSON, correctly signed.

TEST_F(HostileInputTest, InvalidUtf8WithAValidSignatureGets400) {
  const auto event_with_text = [](const std::string& text) {
    return absl::StrCat(R"({"type":"message","mode":"active","timestamp":1700000000000,)",
                        R"("webhookEventId":"01JUTF8","source":{"type":"user","userId":"U1"},)",
                        R"("message":{"id":"1","type":"text","text":")", text, R"("}})");
  };
  struct Case {
    std::string name;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"byte 0xFF in a string", Body(event_with_text("caf\xff"))},
      {"overlong encoding of '/'", Body(event_with_text("\xc0\xaf"))},
      {"UTF-8-encoded surrogate", Body(event_with_text("\xed\xa0\x80"))},
      {"truncated multi-byte sequence", Body(event_with_text("\xe3\x81"))},
      {"code point above U+10FFFF", Body(event_with_text("\xf4\x90\x80\x80"))},
      {"invalid UTF-8 in a key", absl::StrCat(R"({"destination":")", Channel1().bot_user_id,
                                              R"(","ev)", "\xfe", R"(nts":[]})")},
  };
  for (const Case& c : cases) {
    auto response = HttpCall("POST", url_, c.body,
                             {{"x-line-signature", TestSignature(Channel1().secret, c.body)}},
                             absl::Seconds(30));
    ASSERT_TRUE(response.ok()) << c.name << ": " << response.status();
    EXPECT_EQ(response->status, 400) << c.name << ": " << response->body;
  }
  EXPECT_EQ(StoredEvents(), 0);
  ExpectHealthy("invalid UTF-8");
}

class HostileInputDeepTest : public HostileInputTest {
 protected:
  // Room for 100,000-deep bodies (up to 700 KB) so they reach the JSON parser.
  std::vector<std::string> Flags() override { return {"--webhook_max_body_bytes=1048576"}; }
};

TEST_F(HostileInputDeepTest, DeeplyNestedJsonReachesTheParserAndGets400) {
  std::string deep_objects;
  for (int i = 0; i < 100000; ++i) deep_objects += R"({"a":)";
  deep_objects += "1";
  deep_objects += std::string(100000, '}');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"100,000 unclosed '['", Body(std::string(100000, '['))},
      {"100,000 nested arrays in an event",
       Body(absl::StrCat(R"({"type":"message","timestamp":1,"deep":)", std::string(100000, '['),
                         std::string(100000, ']'), "}"))},
      {"100,000 nested objects in an event",
       Body(absl::StrCat(R"({"type":"message","timestamp":1,"deep":)", deep_objects, "}"))},
      {"100,000 nested arrays as the body", std::string(100000, '[') + std::string(100000, ']')},
  };
  for (const auto& [name, body] : cases) {
    EXPECT_EQ(PostSigned(body), 400) << name;
  }
  EXPECT_EQ(StoredEvents(), 0);
  ExpectHealthy("deeply nested JSON");
}

// ---------------------------------------------------------------------------------------------
// gRPC fields at their limits and beyond.

class FieldLimitsTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (HasFatalFailure()) return;
    // An OA whose every value is as long as allowed: Channel ID of 20 digits, a 2048-character
    // token and a 30-character LINE ID.
    limit_.channel_id = "12345678901234567890";
    limit_.secret = "0123456789abcdef0123456789ABCDEF";
    limit_.token = absl::StrCat("LIMIT+", std::string(2048 - 10, 'T'), "end=");
    limit_.bot_user_id = "U0123456789abcdef0123456789abcdef";
    limit_.line_id = "@" + std::string("limits.oa-") + std::string(20, 'z');
    ASSERT_EQ(limit_.token.size(), 2048u);
    ASSERT_EQ(limit_.line_id.size(), 31u);
    const absl::Status added = line_->AddChannels({limit_}, "Limits");
    ASSERT_TRUE(added.ok()) << added;
  }

  // 64 characters of every kind a team id may have.
  static std::string LongTeam() {
    const std::string team = "team.a-b_c:" + std::string(53, 'x');
    return team;
  }
  // 100 characters, most of them several bytes long.
  static std::string LongAppName() {
    std::string name;
    for (int i = 0; i < 40; ++i) name += "\xe2\x98\x95";      // U+2615, 3 bytes
    for (int i = 0; i < 30; ++i) name += "\xf0\x9f\x98\x84";  // U+1F604, 4 bytes
    for (int i = 0; i < 20; ++i) name += "\xc3\xa9";          // U+00E9, 2 bytes
    name += std::string(10, 'a');
    return name;
  }

  v1::BindChannelRequest AtLimits() const {
    v1::BindChannelRequest request;
    request.set_team_id(LongTeam());
    request.set_app_name(LongAppName());
    request.set_channel_id(limit_.channel_id);
    request.set_channel_secret(limit_.secret);
    request.set_channel_access_token(limit_.token);
    request.set_line_id(limit_.line_id);
    return request;
  }

  void ExpectHealthy(const std::string& after) {
    SCOPED_TRACE("health after " + after);
    auto health = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(channeld_->grpc_address(), grpc::InsecureChannelCredentials()));
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(Context().get(), {}, &response).ok());
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    if (url_.empty()) {
      v1::BindChannelResponse bound;
      ASSERT_TRUE(channeld_->stub()
                      .BindChannel(Context().get(), BindRequestFor(Channel1(), kTeam), &bound)
                      .ok());
      url_ = bound.channel().webhook_url();
    }
    const std::string body =
        absl::StrCat(R"({"destination":")", Channel1().bot_user_id,
                     R"(","events":[{"type":"follow","timestamp":1700000000000,"webhookEventId":")",
                     "01JLIMITS", ++healthy_checks_, R"("}]})");
    auto posted = HttpCall("POST", url_, body,
                           {{"x-line-signature", TestSignature(Channel1().secret, body)}});
    ASSERT_TRUE(posted.ok()) << posted.status();
    EXPECT_EQ(posted->status, 200);
  }

  FixtureChannel limit_;
  std::string url_;
  int healthy_checks_ = 0;
};

// Expects INVALID_ARGUMENT naming exactly `field`.
void ExpectInvalid(const grpc::Status& status, const std::string& field, const std::string& what) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << what << ": " << status.error_code() << " " << status.error_message();
  EXPECT_EQ(Reason(status), "INVALID_FIELDS") << what;
  EXPECT_THAT(ViolatedFields(status), ElementsAre(field)) << what << ": " << status.error_message();
}

TEST_F(FieldLimitsTest, BindChannelFieldsAtTheirLimitsAndBeyond) {
  // Beyond: each field one step over its limit (or malformed) in an otherwise good request.
  struct Case {
    std::string name;
    std::string field;
    std::function<void(v1::BindChannelRequest&)> change;
  };
  const std::vector<Case> cases = {
      {"team_id of 65", "team_id", [](auto& r) { r.set_team_id(LongTeam() + "x"); }},
      {"team_id with a space", "team_id", [](auto& r) { r.set_team_id("team a"); }},
      {"team_id with a slash", "team_id", [](auto& r) { r.set_team_id("team/a"); }},
      {"no team_id", "team_id", [](auto& r) { r.set_team_id(""); }},
      {"channel_id of 21 digits", "channel_id",
       [](auto& r) { r.set_channel_id("123456789012345678901"); }},
      {"channel_id with a letter", "channel_id", [](auto& r) { r.set_channel_id("16560000O1"); }},
      {"channel_id with a sign", "channel_id", [](auto& r) { r.set_channel_id("-1656000001"); }},
      {"app_name of 101 characters", "app_name",
       [](auto& r) { r.set_app_name(LongAppName() + "\xe2\x98\x95"); }},
      {"app_name of 101 ASCII characters", "app_name",
       [](auto& r) { r.set_app_name(std::string(101, 'a')); }},
      {"app_name with a line break", "app_name", [](auto& r) { r.set_app_name("Shop\nA"); }},
      {"app_name with NUL", "app_name", [](auto& r) { r.set_app_name(std::string("Shop\0A", 6)); }},
      {"app_name of spaces", "app_name", [](auto& r) { r.set_app_name("   "); }},
      {"secret of 31", "channel_secret",
       [](auto& r) { r.set_channel_secret(std::string(31, 'a')); }},
      {"secret of 33", "channel_secret",
       [](auto& r) { r.set_channel_secret(std::string(33, 'a')); }},
      {"secret of 32 non-hex", "channel_secret",
       [](auto& r) { r.set_channel_secret(std::string(31, 'a') + "g"); }},
      {"secret with a line break", "channel_secret",
       [](auto& r) { r.set_channel_secret(std::string(32, 'a') + "\n"); }},
      {"token of 2049", "channel_access_token",
       [this](auto& r) { r.set_channel_access_token(limit_.token + "x"); }},
      {"token with a space", "channel_access_token",
       [](auto& r) { r.set_channel_access_token("abc def"); }},
      {"token with non-ASCII", "channel_access_token",
       [](auto& r) { r.set_channel_access_token("abc\xc3\xa9"); }},
      {"token with its Bearer prefix", "channel_access_token",
       [this](auto& r) { r.set_channel_access_token("Bearer " + limit_.token); }},
      {"line_id of 31", "line_id", [this](auto& r) { r.set_line_id(limit_.line_id + "z"); }},
      {"line_id of 31 without @", "line_id",
       [this](auto& r) { r.set_line_id(limit_.line_id.substr(1) + "z"); }},
      {"line_id of only @", "line_id", [](auto& r) { r.set_line_id("@"); }},
      {"line_id with a space", "line_id", [](auto& r) { r.set_line_id("@abc def"); }},
      {"app_name near the message limit", "app_name",
       [](auto& r) { r.set_app_name(std::string(1000000, 'a')); }},
  };
  for (const Case& c : cases) {
    v1::BindChannelRequest request = AtLimits();
    c.change(request);
    v1::BindChannelResponse response;
    ExpectInvalid(channeld_->stub().BindChannel(Context().get(), request, &response), c.field,
                  c.name);
  }

  // Over the gRPC message limit (1 MiB by default): refused before anything reads it.
  v1::BindChannelRequest huge = AtLimits();
  huge.set_app_name(std::string(2 << 20, 'a'));
  v1::BindChannelResponse refused;
  EXPECT_EQ(channeld_->stub().BindChannel(Context().get(), huge, &refused).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  // At the limits: bound, and every value comes back as given.
  v1::BindChannelResponse bound;
  const grpc::Status status = channeld_->stub().BindChannel(Context().get(), AtLimits(), &bound);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(bound.channel().team_id(), LongTeam());
  EXPECT_EQ(bound.channel().app_name(), LongAppName());
  EXPECT_EQ(bound.channel().channel_id(), limit_.channel_id);
  EXPECT_EQ(bound.channel().line_id(), limit_.line_id.substr(1));
  EXPECT_EQ(bound.channel().bot_user_id(), limit_.bot_user_id);
  // The same at-limit values again: the same binding.
  v1::BindChannelResponse again;
  ASSERT_TRUE(channeld_->stub().BindChannel(Context().get(), AtLimits(), &again).ok());
  EXPECT_TRUE(again.already_bound());
  EXPECT_EQ(again.channel().binding_id(), bound.channel().binding_id());
  ExpectHealthy("BindChannel limits");
}

// Invalid UTF-8 in a string field. A well-behaved protobuf client will not send it, so the
// request is built as raw bytes, as a hostile client would. Protobuf refuses to parse it, and
// gRPC's callback API (1.51) answers any request it cannot parse with UNIMPLEMENTED before our
// code runs (README "Errors"): the test holds that answer, that nothing was bound, and that the
// service stays healthy.
TEST_F(FieldLimitsTest, InvalidUtf8InAStringFieldIsRefusedBeforeOurCode) {
  grpc::GenericStub raw(
      grpc::CreateChannel(channeld_->grpc_address(), grpc::InsecureChannelCredentials()));
  struct Case {
    std::string name;
    std::string field;
    std::string bad_value;
  };
  const std::vector<Case> cases = {
      {"app_name with byte 0xFF", "app_name", "Shop \xff"},
      {"app_name cut inside a character", "app_name", "Shop \xe2\x98"},
      {"app_name with an overlong encoding", "app_name", "Shop \xc0\xaf"},
      {"team_id with byte 0xFF", "team_id", "team-\xff"},
  };
  for (const Case& c : cases) {
    // A placeholder of the right length is swapped for the bad bytes after serializing.
    const std::string placeholder(c.bad_value.size(), '#');
    v1::BindChannelRequest request = AtLimits();
    if (c.field == "app_name") request.set_app_name(placeholder);
    if (c.field == "team_id") request.set_team_id(placeholder);
    std::string bytes = request.SerializeAsString();
    bytes.replace(bytes.find(placeholder), placeholder.size(), c.bad_value);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request_bytes(&slice, 1);
    grpc::ByteBuffer response_bytes;
    auto context = Context();
    context->AddMetadata("authorization", "Bearer " + channeld_->admin_token());
    absl::Notification done;
    grpc::Status status;
    raw.UnaryCall(context.get(), "/linechannel.v1.ChannelService/BindChannel", grpc::StubOptions(),
                  &request_bytes, &response_bytes, [&](grpc::Status s) {
                    status = std::move(s);
                    done.Notify();
                  });
    done.WaitForNotification();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
        << c.name << ": " << status.error_code() << " " << status.error_message();
    EXPECT_EQ(response_bytes.Length(), 0u) << c.name;
  }
  // Nothing was bound for the team of the app_name cases.
  v1::ListChannelsRequest list;
  list.set_team_id(LongTeam());
  list.set_include_unbound(true);
  v1::ListChannelsResponse listed;
  ASSERT_TRUE(channeld_->stub().ListChannels(Context().get(), list, &listed).ok());
  EXPECT_EQ(listed.channels_size(), 0) << "a refused request bound a channel";
  ExpectHealthy("invalid UTF-8 in string fields");
}

TEST_F(FieldLimitsTest, OtherRpcsFieldsAtTheirLimitsAndBeyond) {
  v1::BindChannelResponse bound;
  ASSERT_TRUE(channeld_->stub().BindChannel(Context().get(), AtLimits(), &bound).ok());
  const std::string team = LongTeam();
  const std::string channel = limit_.channel_id;
  auto& stub = channeld_->stub();

  // team_id and channel_id of the binding RPCs: at the limit they reach the binding.
  {
    v1::GetChannelRequest get;
    get.set_team_id(team);
    get.set_channel_id(channel);
    v1::Channel got;
    EXPECT_TRUE(stub.GetChannel(Context().get(), get, &got).ok());
    v1::GetWebhookUrlRequest url;
    url.set_team_id(team);
    url.set_channel_id(channel);
    v1::GetWebhookUrlResponse url_response;
    EXPECT_TRUE(stub.GetWebhookUrl(Context().get(), url, &url_response).ok());
  }
  for (const auto& [field, bad_team, bad_channel] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"team_id", team + "x", channel}, {"channel_id", team, channel + "0"}}) {
    v1::GetChannelRequest get;
    get.set_team_id(bad_team);
    get.set_channel_id(bad_channel);
    v1::Channel got;
    ExpectInvalid(stub.GetChannel(Context().get(), get, &got), field, "GetChannel " + field);
    v1::GetWebhookUrlRequest url;
    url.set_team_id(bad_team);
    url.set_channel_id(bad_channel);
    v1::GetWebhookUrlResponse url_response;
    ExpectInvalid(stub.GetWebhookUrl(Context().get(), url, &url_response), field,
                  "GetWebhookUrl " + field);
    v1::VerifyWebhookRequest verify;
    verify.set_team_id(bad_team);
    verify.set_channel_id(bad_channel);
    v1::VerifyWebhookResponse verified;
    ExpectInvalid(stub.VerifyWebhook(Context().get(), verify, &verified), field,
                  "VerifyWebhook " + field);
    v1::UnbindChannelRequest unbind;
    unbind.set_team_id(bad_team);
    unbind.set_channel_id(bad_channel);
    v1::UnbindChannelResponse unbound;
    ExpectInvalid(stub.UnbindChannel(Context().get(), unbind, &unbound), field,
                  "UnbindChannel " + field);
  }

  // UpdateCredentials: the same limits as BindChannel for the secret and the token.
  for (const auto& [field, secret, token] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"channel_secret", std::string(31, 'a'), ""},
           {"channel_secret", std::string(33, 'a'), ""},
           {"channel_access_token", "", limit_.token + "x"}}) {
    v1::UpdateCredentialsRequest update;
    update.set_team_id(team);
    update.set_channel_id(channel);
    update.set_channel_secret(secret);
    update.set_channel_access_token(token);
    v1::UpdateCredentialsResponse updated;
    ExpectInvalid(stub.UpdateCredentials(Context().get(), update, &updated), field,
                  absl::StrCat("UpdateCredentials ", field, " of ", secret.size() + token.size()));
  }
  {
    // At the limit, equal to the stored values: nothing to change, answered OK.
    v1::UpdateCredentialsRequest update;
    update.set_team_id(team);
    update.set_channel_id(channel);
    update.set_channel_secret(limit_.secret);
    update.set_channel_access_token(limit_.token);
    v1::UpdateCredentialsResponse updated;
    const grpc::Status status = stub.UpdateCredentials(Context().get(), update, &updated);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  // ListChannels: page_size 1..1000 (0 = default), page_token from an earlier answer.
  const auto list = [&](int page_size, const std::string& token, int state = 0) {
    v1::ListChannelsRequest request;
    request.set_team_id(team);
    request.set_page_size(page_size);
    request.set_page_token(token);
    request.set_state(static_cast<v1::BindingState>(state));
    v1::ListChannelsResponse response;
    return stub.ListChannels(Context().get(), request, &response);
  };
  EXPECT_TRUE(list(1000, "").ok());
  EXPECT_TRUE(list(0, "").ok());
  ExpectInvalid(list(1001, ""), "page_size", "ListChannels page_size 1001");
  ExpectInvalid(list(-1, ""), "page_size", "ListChannels page_size -1");
  ExpectInvalid(list(std::numeric_limits<int32_t>::min(), ""), "page_size",
                "ListChannels page_size INT32_MIN");
  ExpectInvalid(list(10, "garbage!!"), "page_token", "ListChannels page_token garbage");
  ExpectInvalid(list(10, "YWZ0ZXI6LTE"), "page_token", "ListChannels page_token after:-1");
  ExpectInvalid(list(10, "bm90IGEgdG9rZW4"), "page_token", "ListChannels page_token base64");
  ExpectInvalid(list(10, std::string(5000, 'A')), "page_token", "ListChannels page_token long");
  ExpectInvalid(list(10, "", 99), "state", "ListChannels state 99");

  // ListEvents and StreamEvents: after_cursor >= 0, page_size 1..1000.
  const auto events = [&](int page_size, int64_t after) {
    v1::ListEventsRequest request;
    request.set_team_id(team);
    request.set_page_size(page_size);
    request.set_after_cursor(after);
    v1::ListEventsResponse response;
    return stub.ListEvents(Context().get(), request, &response);
  };
  EXPECT_TRUE(events(1000, 0).ok());
  EXPECT_TRUE(events(1, std::numeric_limits<int64_t>::max()).ok());
  ExpectInvalid(events(1001, 0), "page_size", "ListEvents page_size 1001");
  ExpectInvalid(events(-1, 0), "page_size", "ListEvents page_size -1");
  ExpectInvalid(events(10, -1), "after_cursor", "ListEvents after_cursor -1");
  ExpectInvalid(events(10, std::numeric_limits<int64_t>::min()), "after_cursor",
                "ListEvents after_cursor INT64_MIN");
  {
    v1::StreamEventsRequest request;
    request.set_team_id(team);
    request.set_after_cursor(-1);
    auto context = Context(absl::Seconds(10));
    auto reader = stub.StreamEvents(context.get(), request);
    v1::Event event;
    EXPECT_FALSE(reader->Read(&event));
    ExpectInvalid(reader->Finish(), "after_cursor", "StreamEvents after_cursor -1");
  }
  {
    v1::StreamEventsRequest request;
    request.set_team_id(team + "x");
    auto context = Context(absl::Seconds(10));
    auto reader = stub.StreamEvents(context.get(), request);
    v1::Event event;
    EXPECT_FALSE(reader->Read(&event));
    ExpectInvalid(reader->Finish(), "team_id", "StreamEvents team_id of 65");
  }
  ExpectHealthy("other RPCs' limits");
}

}  // namespace
}  // namespace linechannel::testing
