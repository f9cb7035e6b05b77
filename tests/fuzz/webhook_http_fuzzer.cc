// Fuzzes the webhook endpoint through its real HTTP layer. Once per process it starts the
// server's own HttpServer with the WebhookHandler and a WebhookReceiver over a real SQLite
// store in a fresh temporary directory, holding one active binding (webhook key kWebhookKey,
// secret kChannelSecret, bot kBotUserId). Each input is then written as raw bytes to a new
// loopback connection, the sending side is closed, and everything the server sends is read
// until it closes the connection.
//
// So that bodies also get past the signature check, every "{{sig}}" in the input is replaced
// by the correct x-line-signature of the body of the request it appears in (the bytes after
// that request's blank line: Content-Length of them, de-chunked for chunked requests, or all
// of the rest).
//
// Invariants: the server neither crashes nor hangs (it answers or closes within 10 s of the
// client closing its side), and every answer is a well-formed HTTP/1.1 response with one of
// the documented statuses: 200, 400, 401, 403, 404, 405, 408, 413, 431, 503; a 405 on the
// webhook path says "Allow: POST".

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/crypto/sealing_contexts.h"
#include "server/webhook/event_notifier.h"
#include "server/http/http_server.h"
#include "server/crypto/key_ring.h"
#include "server/base/metrics.h"
#include "server/crypto/secret.h"
#include "server/crypto/secret_sealer.h"
#include "server/webhook/webhook_handler.h"
#include "server/webhook/webhook_receiver.h"
#include "server/crypto/webhook_signature.h"
#include "storage/cache/caching_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/fuzz/fuzz_support.h"

namespace linechannel::fuzz {
namespace {

namespace http = boost::beast::http;

constexpr char kWebhookKey[] = "fuzzKey_0123456789abcdefghijklmnopqrstuv";
constexpr char kChannelSecret[] = "0123456789abcdef0123456789abcdef";
constexpr char kChannelId[] = "1656000001";
constexpr char kBotUserId[] = "U0123456789abcdef0123456789abcdef";
constexpr absl::string_view kPlaceholder = "{{sig}}";
constexpr size_t kMaxBodyBytes = 8192;
constexpr auto kAnswerTimeout = std::chrono::seconds(10);

std::string& TempDir() {
  static auto* const dir = new std::string;
  return *dir;
}

void RemoveTempDir() {
  std::error_code ignored;
  if (!TempDir().empty()) std::filesystem::remove_all(TempDir(), ignored);
}

// Everything the server needs, made once and never destroyed (the server threads run until
// the process exits).
struct Fixture {
  CounterRandom random;
  server::FakeClock clock{absl::FromUnixSeconds(1700000000)};
  server::EventNotifier notifier;
  server::Metrics metrics;
  // In front of `store`, which it outlives. Small, so that the fuzzer also reaches lookups of
  // keys the cache does not hold.
  std::unique_ptr<storage::CachingStore> cache;
  std::unique_ptr<storage::SqliteStore> store;
  std::unique_ptr<server::SecretSealer> sealer;
  std::unique_ptr<server::WebhookReceiver> receiver;
  std::unique_ptr<server::WebhookHandler> handler;
  std::unique_ptr<server::HttpServer> http;
  sockaddr_in address{};

  Fixture() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "linechannel-fuzz-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) Fail("mkdtemp %s", pattern.c_str());
    TempDir() = pattern;
    std::atexit(RemoveTempDir);

    storage::SqliteStore::Options store_options;
    store_options.path = pattern + "/channeld.db";
    auto opened = storage::SqliteStore::Open(store_options);
    if (!opened.ok()) Fail("store: %s", opened.status().ToString().c_str());
    store = *std::move(opened);
    cache = std::make_unique<storage::CachingStore>(storage::AllRolesOf(*store), 4);

    sealer = std::make_unique<server::SecretSealer>(server::KeyRing::Generate(random), &random);
    storage::Binding binding;
    binding.binding_id = "b-fuzz";
    binding.team_id = "team-fuzz";
    binding.app_name = "Fuzz";
    binding.channel_id = kChannelId;
    binding.line_id = "fuzzbot";
    binding.bot_user_id = kBotUserId;
    binding.bot_display_name = "Fuzz bot";
    binding.webhook_key = kWebhookKey;
    auto secret = sealer->Seal(server::Secret(kChannelSecret), server::SecretContext(kChannelId));
    auto token =
        sealer->Seal(server::Secret("fuzz-access-token"), server::TokenContext(kChannelId));
    if (!secret.ok() || !token.ok()) Fail("sealing the fixture's secrets failed");
    binding.channel_secret = *secret;
    binding.access_token = *token;
    binding.channel_secret_hint = "…cdef";
    binding.access_token_hint = "…oken";
    binding.verified_with_line = true;
    binding.bound_at = clock.Now();
    binding.bound_by = "fuzz";
    binding.credentials_updated_at = clock.Now();
    auto inserted = store->InsertActive(binding, {"fuzz", clock.Now(), ""}, nullptr);
    if (!inserted.ok()) Fail("binding: %s", inserted.status().ToString().c_str());

    receiver = std::make_unique<server::WebhookReceiver>(cache.get(), cache.get(), sealer.get(),
                                                         &clock, &notifier, 4);
    handler = std::make_unique<server::WebhookHandler>(receiver.get(), &metrics);
    server::HttpServer::Options options;
    options.listen = "127.0.0.1:0";
    options.log_event = "webhook";
    options.threads = 1;
    options.max_body_bytes = kMaxBodyBytes;
    options.header_timeout = absl::Seconds(5);
    options.body_timeout = absl::Seconds(5);
    options.idle_timeout = absl::Seconds(5);
    options.max_connections = 64;
    auto started = server::HttpServer::Start(options, handler.get());
    if (!started.ok()) Fail("server: %s", started.status().ToString().c_str());
    http = *std::move(started);

    const std::string bound = http->address();
    const size_t colon = bound.rfind(':');
    int port = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(bound.substr(colon + 1), &port)) {
      Fail("server address %s", bound.c_str());
    }
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
};

Fixture& TheFixture() {
  static Fixture* const fixture = new Fixture;
  return *fixture;
}

// The bytes a request's body arrives in, de-chunked: hex size line, data, CRLF, ..., 0.
std::string Dechunk(absl::string_view in) {
  std::string out;
  while (true) {
    const size_t line_end = in.find("\r\n");
    if (line_end == absl::string_view::npos) return out;
    absl::string_view size_text = in.substr(0, line_end);
    size_text = size_text.substr(0, size_text.find(';'));
    uint64_t size = 0;
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(size_text), &size) || size == 0) {
      return out;
    }
    in.remove_prefix(line_end + 2);
    if (size > in.size()) size = in.size();
    out.append(in.data(), size);
    in.remove_prefix(size);
    if (!absl::ConsumePrefix(&in, "\r\n")) return out;
  }
}

// The input with each placeholder replaced by the signature of its request's body.
std::string Sign(absl::string_view input) {
  std::string out;
  size_t done = 0;
  while (true) {
    const size_t at = input.find(kPlaceholder, done);
    if (at == absl::string_view::npos) break;
    const size_t head_end = input.find("\r\n\r\n", at);
    std::string body;
    if (head_end != absl::string_view::npos) {
      const size_t previous_end = input.rfind("\r\n\r\n", at);
      const size_t head_start = previous_end == absl::string_view::npos ? 0 : previous_end + 4;
      const std::string head =
          absl::AsciiStrToLower(input.substr(head_start, head_end - head_start));
      absl::string_view rest = input.substr(head_end + 4);
      if (head.find("transfer-encoding:") != std::string::npos &&
          head.find("chunked") != std::string::npos) {
        body = Dechunk(rest);
      } else {
        const size_t length_at = head.find("\ncontent-length:");
        uint64_t length = rest.size();
        if (length_at != std::string::npos) {
          absl::string_view digits = absl::string_view(head).substr(length_at + 16);
          digits = absl::StripLeadingAsciiWhitespace(digits);
          digits = digits.substr(0, digits.find_first_not_of("0123456789"));
          if (!absl::SimpleAtoi(digits, &length)) length = rest.size();
        }
        body = std::string(rest.substr(0, std::min<uint64_t>(length, rest.size())));
      }
    }
    absl::StrAppend(&out, input.substr(done, at - done),
                    server::WebhookSignature(server::Secret(kChannelSecret), body));
    done = at + kPlaceholder.size();
  }
  absl::StrAppend(&out, input.substr(done));
  return out;
}

// Sends `request`, closes the sending side and returns everything the server sends until it
// closes. `reset` says whether the connection ended with a reset rather than a clean close.
std::string Exchange(const std::string& request, bool* reset) {
  const Fixture& fixture = TheFixture();
  // Non-blocking throughout: libFuzzer's timer signal (SIGALRM, no SA_RESTART) interrupts
  // blocking calls.
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) Fail("socket: %s", std::strerror(errno));
  const auto deadline = std::chrono::steady_clock::now() + kAnswerTimeout;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&fixture.address), sizeof(fixture.address)) !=
      0) {
    if (errno != EINPROGRESS && errno != EINTR) Fail("connect: %s", std::strerror(errno));
    while (true) {
      pollfd p{fd, POLLOUT, 0};
      const int ready = poll(&p, 1, 100);
      if (ready < 0 && errno != EINTR) Fail("poll: %s", std::strerror(errno));
      if (ready > 0) break;
      if (std::chrono::steady_clock::now() > deadline) Fail("connect: timed out");
    }
    int error = 0;
    socklen_t length = sizeof(error);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
      Fail("connect: %s", std::strerror(error));
    }
  }
  size_t sent = 0;
  bool sending = true;
  std::string received;
  *reset = false;
  if (request.empty()) {
    shutdown(fd, SHUT_WR);
    sending = false;
  }
  while (true) {
    pollfd p{fd, static_cast<short>(POLLIN | (sending ? POLLOUT : 0)), 0};
    const int ready = poll(&p, 1, 100);
    if (ready < 0 && errno != EINTR) Fail("poll: %s", std::strerror(errno));
    if (std::chrono::steady_clock::now() > deadline) {
      Fail(
          "the server neither answered nor closed within %lld s (%zu of %zu bytes sent, %zu "
          "received)",
          static_cast<long long>(kAnswerTimeout.count()), sent, request.size(), received.size());
    }
    if (ready <= 0) continue;
    if (sending && (p.revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t n =
          send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || sent == request.size()) {
        // Done, or the server stopped reading (it answered early and closed).
        shutdown(fd, SHUT_WR);
        sending = false;
      }
    }
    if ((p.revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
      char buffer[16384];
      const ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n > 0) {
        received.append(buffer, static_cast<size_t>(n));
      } else if (n == 0) {
        break;
      } else if (errno == ECONNRESET || errno == EPIPE) {
        *reset = true;
        break;
      } else if (errno != EAGAIN && errno != EINTR) {
        Fail("recv: %s", std::strerror(errno));
      }
    }
  }
  close(fd);
  return received;
}

bool IsDocumentedStatus(unsigned status) {
  switch (status) {
    case 200:
    case 400:
    case 401:
    case 403:
    case 404:
    case 405:
    case 408:
    case 413:
    case 431:
    case 503:
      return true;
    default:
      return false;
  }
}

// Checks every response in what the server sent.
void CheckResponses(const std::string& received, bool reset) {
  size_t offset = 0;
  while (offset < received.size()) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    boost::beast::error_code ec;
    const size_t used =
        parser.put(boost::asio::buffer(received.data() + offset, received.size() - offset), ec);
    if (ec == http::error::need_more || (!ec && !parser.is_done())) {
      // Cut off: only acceptable when the connection was reset under it.
      if (!reset) Fail("truncated response after %zu bytes: %s", offset, received.c_str());
      return;
    }
    if (ec) Fail("malformed response (%s): %s", ec.message().c_str(), received.c_str());
    offset += used;
    const auto& response = parser.get();
    const unsigned status = response.result_int();
    if (!IsDocumentedStatus(status)) {
      Fail("undocumented status %u: %s", status, received.c_str());
    }
    if (status == 405 && response.body() == "webhooks are POSTed\n" &&
        response[http::field::allow] != "POST") {
      Fail("405 without \"Allow: POST\": %s", received.c_str());
    }
    if (response.version() != 11) Fail("not HTTP/1.1: %s", received.c_str());
  }
}

}  // namespace
}  // namespace linechannel::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  linechannel::fuzz::SilenceServerLogs();
  linechannel::fuzz::TheFixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linechannel;
  const std::string request =
      fuzz::Sign(absl::string_view(reinterpret_cast<const char*>(data), size));
  bool reset = false;
  const std::string received = fuzz::Exchange(request, &reset);
  // FUZZ_VERBOSE=1 shows what the server answered (for looking at single inputs).
  static const bool verbose = std::getenv("FUZZ_VERBOSE") != nullptr;
  if (verbose) {
    std::fprintf(stderr, "---- answer%s:\n%s\n", reset ? " (reset)" : "", received.c_str());
  }
  fuzz::CheckResponses(received, reset);
  return 0;
}
