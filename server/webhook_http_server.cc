#include "server/webhook_http_server.h"

#include <atomic>
#include <cstdint>
#include <limits>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/logger.h"

namespace linechannel::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kMaxHeaderBytes = 16 * 1024;
constexpr size_t kMaxWebhookKeyLength = 64;
constexpr absl::string_view kWebhookPrefix = "/line/webhook/";

std::chrono::steady_clock::duration Chrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

bool IsWebhookKey(absl::string_view key) {
  if (key.empty() || key.size() > kMaxWebhookKeyLength) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

struct WebhookHttpServer::Impl {
  Options options;
  WebhookReceiver* receiver = nullptr;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::string address;
  // Requests between "headers read" and "response written"; shutdown waits for them.
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopping{false};
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;

  void Accept();
};

namespace {

// One connection: requests are read and answered one after the other (HTTP/1.1 keep-alive).
// All of a session's handlers run on its strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, WebhookHttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {}

  void Start() { ReadHeader(server_->options.header_timeout); }

 private:
  struct Answer {
    int status = 200;
    std::string message;
    // Close the connection after answering: the request's body (if any) was not read.
    bool close = false;
    WebhookReceiver::Outcome outcome;
  };

  void ReadHeader(absl::Duration timeout) {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    // No body limit while reading the headers: the parser would refuse a large
    // Content-Length there, before the key is checked. OnHeader sets the limit.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    target_.reset();
    stream_.expires_after(Chrono(timeout));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared_from_this()));
  }

  // Between requests the idle timeout applies until the next request's first bytes arrive;
  // from then on its headers get the (shorter) header timeout.
  void WaitForNextRequest() {
    if (buffer_.size() > 0) {
      ReadHeader(server_->options.header_timeout);
      return;
    }
    stream_.expires_after(Chrono(server_->options.idle_timeout));
    stream_.async_read_some(
        buffer_.prepare(4096),
        [self = shared_from_this()](beast::error_code ec, size_t n) {
          if (ec) return self->Close();
          self->buffer_.commit(n);
          self->ReadHeader(self->server_->options.header_timeout);
        });
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted) {
      return Close();
    }
    ++server_->in_flight;
    started_ = absl::Now();
    if (ec == http::error::header_limit) {
      return Respond({431, "request headers too large", true});
    }
    if (ec) return Respond({400, "malformed HTTP request", true});

    const auto& request = parser_->get();
    const bool has_body =
        parser_->chunked() || (parser_->content_length() && *parser_->content_length() > 0);
    absl::string_view path(request.target().data(), request.target().size());
    path = path.substr(0, path.find('?'));
    if (!absl::ConsumePrefix(&path, kWebhookPrefix)) {
      return Respond({404, "no such path", has_body});
    }
    if (request.method() != http::verb::post) {
      return Respond({405, "webhooks are POSTed", has_body});
    }
    if (!IsWebhookKey(path)) return Respond({404, "unknown webhook URL", has_body});
    absl::StatusOr<WebhookReceiver::Target> target = server_->receiver->Resolve(path);
    if (absl::IsNotFound(target.status())) {
      return Respond({404, "unknown webhook URL", has_body});
    }
    if (!target.ok()) {
      return Respond({503, absl::StrCat("try again: ", target.status().message()), has_body});
    }
    target_ = *std::move(target);
    const auto length = parser_->content_length();
    if (length && *length > server_->options.max_body_bytes) {
      return Respond({413, "body too large", true});
    }
    parser_->body_limit(server_->options.max_body_bytes);
    stream_.expires_after(Chrono(server_->options.body_timeout));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec == http::error::body_limit) return Respond({413, "body too large", true});
    if (ec == beast::error::timeout || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == http::error::partial_message) {
      --server_->in_flight;
      Log({408, "the body did not arrive in time", true});
      return Close();
    }
    if (ec) return Respond({400, "malformed HTTP request body", true});

    auto& request = parser_->get();
    std::optional<absl::string_view> signature;
    const auto header = request.find("x-line-signature");
    if (header != request.end()) {
      signature = absl::string_view(header->value().data(), header->value().size());
    }
    std::string body = std::move(request.body());
    // The receiver checks the signature before it returns, so the header view stays valid;
    // only the outcome may come later, from a storage thread.
    server_->receiver->Receive(
        *target_, signature, std::move(body),
        [self = shared_from_this()](WebhookReceiver::Outcome outcome) {
          asio::post(self->stream_.get_executor(), [self, outcome = std::move(outcome)] {
            self->Respond({outcome.http_status, outcome.message, false, outcome});
          });
        });
  }

  void Respond(Answer answer) {
    Log(answer);
    response_ = {};
    response_.version(11);
    response_.result(static_cast<http::status>(answer.status));
    response_.set(http::field::content_type, "text/plain; charset=utf-8");
    if (answer.status == 405) response_.set(http::field::allow, "POST");
    response_.body() = answer.status == 200 ? "OK\n" : answer.message + "\n";
    const bool keep_alive =
        !answer.close && parser_->get().keep_alive() && !server_->stopping.load();
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        --self->server_->in_flight;
                        if (ec || !keep_alive) return self->Close();
                        self->WaitForNextRequest();
                      });
  }

  void Log(const Answer& answer) {
    LogLine line(answer.status < 400 ? LogLevel::kInfo : LogLevel::kWarning, "webhook");
    line.With("status", answer.status).With("latency_ms", absl::Now() - started_);
    if (target_) {
      line.With("binding_id", target_->binding_id)
          .With("team_id", target_->team_id)
          .With("channel_id", target_->channel_id);
    }
    if (answer.status == 200) {
      line.With("stored", answer.outcome.stored).With("duplicates", answer.outcome.duplicates);
    } else {
      line.With("message", answer.message);
    }
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  WebhookHttpServer::Impl* const server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<WebhookReceiver::Target> target_;
  http::response<http::string_body> response_;
  absl::Time started_;
};

}  // namespace

void WebhookHttpServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping.load()) return;
    if (!ec) {
      std::make_shared<Session>(std::move(socket), this)->Start();
    } else if (ec == asio::error::no_descriptors) {
      // Out of file descriptors: the connection waits in the backlog until one frees up.
      LogLine(LogLevel::kError, "webhook_accept_failed").With("error", ec.message());
    }
    Accept();
  });
}

WebhookHttpServer::WebhookHttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<WebhookHttpServer>> WebhookHttpServer::Start(
    const Options& options, WebhookReceiver* receiver) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->receiver = receiver;
  const size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("webhook listen address \"", options.listen, "\" is not host:port"));
  }
  std::string host = options.listen.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  beast::error_code ec;
  tcp::resolver resolver(impl->io);
  const auto endpoints = resolver.resolve(host, options.listen.substr(colon + 1),
                                          tcp::resolver::passive | tcp::resolver::numeric_service,
                                          ec);
  if (ec || endpoints.empty()) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve webhook listen address ", options.listen, ": ",
                     ec ? ec.message() : "no address"));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for webhooks on ", options.listen, ": ", ec.message()));
  }
  const tcp::endpoint bound = impl->acceptor.local_endpoint();
  impl->address = bound.address().is_v6()
                      ? absl::StrCat("[", bound.address().to_string(), "]:", bound.port())
                      : absl::StrCat(bound.address().to_string(), ":", bound.port());
  impl->Accept();
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    impl->threads.emplace_back([io = &impl->io] { io->run(); });
  }
  return std::unique_ptr<WebhookHttpServer>(new WebhookHttpServer(std::move(impl)));
}

WebhookHttpServer::~WebhookHttpServer() { Shutdown(absl::ZeroDuration()); }

std::string WebhookHttpServer::address() const { return impl_->address; }

void WebhookHttpServer::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->shut_down) return;
    impl_->shut_down = true;
  }
  impl_->stopping = true;
  asio::post(impl_->io, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  const absl::Time deadline = absl::Now() + grace;
  while (impl_->in_flight.load() > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  impl_->io.stop();
  for (std::thread& thread : impl_->threads) thread.join();
}

}  // namespace linechannel::server
