#include "server/http/http_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/base/logger.h"
#include "server/http/connection_table.h"

namespace linechannel::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr size_t kMaxHeaderBytes = 16 * 1024;

std::chrono::steady_clock::duration Chrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

bool IsDisconnect(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == ssl::error::stream_truncated;
}

// How long accept() waits after running out of file descriptors: long enough for the evicted
// connection to close, short enough that the backlog barely notices.
constexpr absl::Duration kAcceptRetryDelay = absl::Milliseconds(5);
// Out-of-descriptor log lines are at most this frequent, so a flood does not flood the log.
constexpr absl::Duration kNoDescriptorsLogInterval = absl::Seconds(10);

}  // namespace

ConnectionEventName NameOf(ConnectionEvent event) {
  switch (event) {
    case ConnectionEvent::kOpened:
      return {"opened", ""};
    case ConnectionEvent::kClosed:
      return {"closed", ""};
    case ConnectionEvent::kEvictedIdle:
      return {"evicted", "idle"};
    case ConnectionEvent::kEvictedIncomplete:
      return {"evicted", "incomplete"};
    case ConnectionEvent::kRefusedFull:
      return {"refused", "full"};
    case ConnectionEvent::kRefusedNoDescriptors:
      return {"refused", "no_descriptors"};
    case ConnectionEvent::kHeaderTimeout:
      return {"timed_out", "header"};
    case ConnectionEvent::kBodyTimeout:
      return {"timed_out", "body"};
    case ConnectionEvent::kIdleTimeout:
      break;
  }
  return {"timed_out", "idle"};
}

struct HttpServer::Impl {
  Options options;
  HttpHandler* handler = nullptr;
  // Before `io`: sessions still queued in `io` when it is destroyed leave the table then.
  ConnectionTable table;
  asio::io_context io;
  // Keeps the threads running while a request waits for something outside the io_context
  // (a commit): without it they would return from run() and the answer would never be sent.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_retry{io};
  std::atomic<int64_t> last_no_descriptors_log_ns{0};
  std::optional<ssl::context> tls;
  std::vector<std::thread> threads;
  std::string address;
  // Requests between "headers read" and "answer written"; shutdown waits for them.
  std::atomic<int> in_flight{0};
  std::atomic<bool> stopping{false};
  absl::Mutex mu;
  bool shut_down ABSL_GUARDED_BY(mu) = false;

  void Accept();
  void OnAccept(tcp::socket socket);
  // Evicts one connection to make room; false if every connection is busy.
  bool MakeRoom();
  void OnNoDescriptors(const beast::error_code& ec);
  void Report(ConnectionEvent event) const {
    if (options.on_connection_event) options.on_connection_event(event);
  }
  // Kept-alive connections wait less for their next request when the server fills up.
  absl::Duration IdleTimeout() const {
    return table.open() * 2 >= static_cast<size_t>(options.max_connections)
               ? std::min(options.busy_idle_timeout, options.idle_timeout)
               : options.idle_timeout;
  }
};

namespace {

// One connection: requests are read and answered one after the other (HTTP/1.1 keep-alive).
// All of a session's handlers run on its strand. `Derived` provides stream() and the
// connection's start and end (a TLS handshake and close_notify, or nothing).
template <typename Derived>
class Session : public ConnectionTable::Connection {
 public:
  explicit Session(HttpServer::Impl* server) : server_(server) {
    server_->Report(ConnectionEvent::kOpened);
  }
  ~Session() override {
    // Leave the table before saying so, so the open count and the event agree.
    handle_.reset();
    server_->Report(ConnectionEvent::kClosed);
  }

  // Closes at once (on the session's strand) without an answer; see ConnectionTable.
  void Evict() override {
    asio::post(tcp().get_executor(), [self = shared()] { self->self().Abort(); });
  }

 protected:
  Derived& self() { return static_cast<Derived&>(*this); }
  std::shared_ptr<Derived> shared() { return self().shared_from_this(); }
  beast::tcp_stream& tcp() { return beast::get_lowest_layer(self().stream()); }

  void ReadHeader(absl::Duration timeout) {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    // No body limit while reading the headers: the parser would refuse a large
    // Content-Length there, before the handler saw the request. OnHeader sets the limit.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    body_step_.reset();
    tcp().expires_after(Chrono(timeout));
    http::async_read_header(self().stream(), buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, shared()));
  }

  // Joins the server's connection table: every session does, before its first read.
  void Register(ConnectionTable::State state) {
    handle_ = server_->table.Add(std::weak_ptr<ConnectionTable::Connection>(shared()), state);
  }

  // Moves to `state`; false (and the connection closed) if it was evicted meanwhile.
  bool Enter(ConnectionTable::State state) {
    if (server_->table.Set(*handle_, state)) return true;
    self().Abort();
    return false;
  }

  // Refuses a connection above the limit without reading anything.
  void RefuseOverload() {
    server_->Report(ConnectionEvent::kRefusedFull);
    ++server_->in_flight;
    started_ = absl::Now();
    parser_.emplace();
    Respond({503, "too many connections; retry shortly\n"}, /*close=*/true);
  }

 private:
  // Between requests the idle timeout applies until the next request's first bytes arrive;
  // from then on its headers get the (shorter) header timeout.
  void WaitForNextRequest() {
    if (buffer_.size() > 0) {
      // Pipelined: the next request has begun already.
      if (Enter(ConnectionTable::State::kIncomplete)) ReadHeader(server_->options.header_timeout);
      return;
    }
    if (!Enter(ConnectionTable::State::kIdle)) return;
    // An idle connection should cost little: drop what the last request grew.
    parser_.reset();
    response_ = {};
    buffer_.shrink_to_fit();
    tcp().expires_after(Chrono(server_->IdleTimeout()));
    self().stream().async_read_some(buffer_.prepare(kIdleReadBytes),
                                    [self = shared()](beast::error_code ec, size_t n) {
                                      if (ec == beast::error::timeout)
                                        self->server_->Report(ConnectionEvent::kIdleTimeout);
                                      if (ec) return self->Close();
                                      self->buffer_.commit(n);
                                      if (!self->Enter(ConnectionTable::State::kIncomplete)) return;
                                      self->ReadHeader(self->server_->options.header_timeout);
                                    });
  }

  void OnHeader(beast::error_code ec, size_t) {
    if (ec == beast::error::timeout) server_->Report(ConnectionEvent::kHeaderTimeout);
    if (IsDisconnect(ec)) return Close();
    ++server_->in_flight;
    started_ = absl::Now();
    if (ec == http::error::header_limit) return Respond({431, "request headers too large\n"}, true);
    if (ec) return Respond({400, "malformed HTTP request\n"}, true);

    const auto& request = parser_->get();
    HttpHead head;
    head.method = std::string(request.method_string());
    const absl::string_view target(request.target().data(), request.target().size());
    const size_t question = target.find('?');
    head.path = std::string(target.substr(0, question));
    if (question != absl::string_view::npos) head.query = std::string(target.substr(question + 1));
    head.has_body =
        parser_->chunked() || (parser_->content_length() && *parser_->content_length() > 0);
    if (parser_->content_length()) head.content_length = *parser_->content_length();

    HttpHandler::Decision decision = server_->handler->OnHead(head);
    if (decision.answer) return Respond(*std::move(decision.answer), head.has_body);
    if (head.content_length && *head.content_length > server_->options.max_body_bytes) {
      return Respond({413, "body too large\n"}, true);
    }
    body_step_ = std::move(decision.body_step);
    parser_->body_limit(server_->options.max_body_bytes);
    tcp().expires_after(Chrono(server_->options.body_timeout));
    http::async_read(self().stream(), buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnBody, shared()));
  }

  void OnBody(beast::error_code ec, size_t) {
    if (ec == beast::error::timeout) server_->Report(ConnectionEvent::kBodyTimeout);
    if (ec == http::error::body_limit) return Respond({413, "body too large\n"}, true);
    if (IsDisconnect(ec) || ec == http::error::partial_message) {
      --server_->in_flight;
      Log(408, {{"message", "the body did not arrive in time"}});
      return Close();
    }
    if (ec) return Respond({400, "malformed HTTP request body\n"}, true);

    // The request is in: from now on it is handled, never evicted.
    if (!Enter(ConnectionTable::State::kBusy)) {
      --server_->in_flight;
      return;
    }
    auto& request = parser_->get();
    const HeaderLookup headers = [&request](absl::string_view name) {
      const auto it = request.find(beast::string_view(name.data(), name.size()));
      return it == request.end() ? std::nullopt
                                 : std::optional<absl::string_view>(
                                       absl::string_view(it->value().data(), it->value().size()));
    };
    std::string body = std::move(request.body());
    body_step_->Run(std::move(body), headers, [self = shared()](HttpAnswer answer) {
      asio::post(self->tcp().get_executor(), [self, answer = std::move(answer)]() mutable {
        self->Respond(std::move(answer), false);
      });
    });
  }

  void Respond(HttpAnswer answer, bool close) {
    // Answered: no longer evictable (unless evicted before this, when nothing is sent).
    if (!Enter(ConnectionTable::State::kBusy)) {
      --server_->in_flight;
      return;
    }
    Log(answer.status, answer.log_fields);
    if (server_->options.on_answer)
      server_->options.on_answer(answer.status, absl::Now() - started_);
    response_ = {};
    response_.version(11);
    response_.result(static_cast<http::status>(answer.status));
    response_.set(http::field::content_type, answer.content_type);
    for (const auto& [name, value] : answer.headers) response_.set(name, value);
    response_.body() = std::move(answer.body);
    const bool keep_alive = !close && parser_->get().keep_alive() && !server_->stopping.load();
    response_.keep_alive(keep_alive);
    response_.prepare_payload();
    tcp().expires_after(Chrono(server_->options.body_timeout));
    http::async_write(self().stream(), response_,
                      [self = shared(), keep_alive](beast::error_code ec, size_t) {
                        --self->server_->in_flight;
                        if (ec || !keep_alive) return self->Close();
                        self->WaitForNextRequest();
                      });
  }

  void Log(int status, const std::vector<std::pair<std::string, std::string>>& fields) {
    LogLine line(status < 400 ? LogLevel::kInfo : LogLevel::kWarning, server_->options.log_event);
    line.With("status", status).With("latency_ms", absl::Now() - started_);
    for (const auto& [key, value] : fields) line.With(key, value);
  }

  void Close() { self().Close(); }

  // The first read of an idle connection's next request: enough for a typical request line and
  // headers, small enough that waiting costs little (header reads grow the buffer as needed).
  static constexpr size_t kIdleReadBytes = 1024;

  HttpServer::Impl* const server_;
  std::unique_ptr<ConnectionTable::Handle> handle_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<HttpHandler::BodyStep> body_step_;
  http::response<http::string_body> response_;
  absl::Time started_;

  friend Derived;
};

class PlainSession : public Session<PlainSession>,
                     public std::enable_shared_from_this<PlainSession> {
 public:
  PlainSession(tcp::socket socket, HttpServer::Impl* server)
      : Session(server), stream_(std::move(socket)) {}
  beast::tcp_stream& stream() { return stream_; }

  void Start(bool overloaded) {
    if (overloaded) {
      Register(ConnectionTable::State::kBusy);
      return RefuseOverload();
    }
    Register(ConnectionTable::State::kIncomplete);
    ReadHeader(server_->options.header_timeout);
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  void Abort() { stream_.close(); }

 private:
  beast::tcp_stream stream_;
};

class TlsSession : public Session<TlsSession>, public std::enable_shared_from_this<TlsSession> {
 public:
  TlsSession(tcp::socket socket, HttpServer::Impl* server)
      : Session(server), stream_(std::move(socket), *server->tls) {}
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }

  void Start(bool overloaded) {
    // The handshake is part of the header time: a client that stalls it is cut (or evicted)
    // like one that stalls its headers.
    Register(overloaded ? ConnectionTable::State::kBusy : ConnectionTable::State::kIncomplete);
    beast::get_lowest_layer(stream_).expires_after(Chrono(server_->options.header_timeout));
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this(), overloaded](beast::error_code ec) {
                              if (ec == beast::error::timeout) {
                                self->server_->Report(ConnectionEvent::kHeaderTimeout);
                              }
                              if (ec) return self->Drop();
                              if (overloaded) return self->RefuseOverload();
                              self->ReadHeader(self->server_->options.header_timeout);
                            });
  }

  void Close() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->Drop(); });
  }

  // No close_notify: an evicted client gets nothing more.
  void Abort() { Drop(); }

 private:
  void Drop() { beast::get_lowest_layer(stream_).close(); }

  beast::ssl_stream<beast::tcp_stream> stream_;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping.load()) return;
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
      return OnNoDescriptors(ec);
    }
    if (!ec) OnAccept(std::move(socket));
    Accept();
  });
}

void HttpServer::Impl::OnAccept(tcp::socket socket) {
  // Room is made before the newcomer is read from, never after: the newcomer is the one
  // client known to be prompt (it has just arrived), so it is never the one refused while
  // another connection could give way.
  const bool overloaded =
      table.open() >= static_cast<size_t>(options.max_connections) && !MakeRoom();
  if (tls) {
    std::make_shared<TlsSession>(std::move(socket), this)->Start(overloaded);
  } else {
    std::make_shared<PlainSession>(std::move(socket), this)->Start(overloaded);
  }
}

bool HttpServer::Impl::MakeRoom() {
  switch (table.EvictOne()) {
    case ConnectionTable::Evicted::kIdle:
      Report(ConnectionEvent::kEvictedIdle);
      return true;
    case ConnectionTable::Evicted::kIncomplete:
      Report(ConnectionEvent::kEvictedIncomplete);
      return true;
    case ConnectionTable::Evicted::kNone:
      break;
  }
  return false;
}

void HttpServer::Impl::OnNoDescriptors(const beast::error_code& ec) {
  // The process is out of descriptors (the connection limit is above what RLIMIT_NOFILE
  // leaves, or another part of the process holds many): free one by evicting, and retry a
  // moment later rather than at once, which would spin on the same error. The connection
  // waits in the listen backlog meanwhile.
  Report(ConnectionEvent::kRefusedNoDescriptors);
  MakeRoom();
  const int64_t now_ns = absl::GetCurrentTimeNanos();
  int64_t last = last_no_descriptors_log_ns.load();
  if (now_ns - last >= absl::ToInt64Nanoseconds(kNoDescriptorsLogInterval) &&
      last_no_descriptors_log_ns.compare_exchange_strong(last, now_ns)) {
    LogLine(LogLevel::kError, "http_accept_failed")
        .With("error", ec.message())
        .With("open_connections", static_cast<int64_t>(table.open()))
        .With("message",
              "out of file descriptors: evicting connections to make room; raise the open-file "
              "limit or lower the connection limit");
  }
  accept_retry.expires_after(Chrono(kAcceptRetryDelay));
  accept_retry.async_wait([this](beast::error_code wait_ec) {
    if (!wait_ec && !stopping.load()) Accept();
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const Options& options,
                                                              HttpHandler* handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = handler;
  if (!options.tls_cert_file.empty()) {
    impl->tls.emplace(ssl::context::tls_server);
    beast::error_code ec;
    impl->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                               ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                               ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                           ec);
    if (!ec) impl->tls->use_certificate_chain_file(options.tls_cert_file, ec);
    if (!ec) impl->tls->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
    if (ec) {
      return absl::FailedPreconditionError(absl::StrCat("cannot use TLS certificate ",
                                                        options.tls_cert_file, " and key ",
                                                        options.tls_key_file, ": ", ec.message()));
    }
  }
  const size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("listen address \"", options.listen, "\" is not host:port"));
  }
  std::string host = options.listen.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  beast::error_code ec;
  tcp::resolver resolver(impl->io);
  const auto endpoints =
      resolver.resolve(host, options.listen.substr(colon + 1),
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return absl::UnavailableError(absl::StrCat("cannot resolve listen address ", options.listen,
                                               ": ", ec ? ec.message() : "no address"));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen, ": ", ec.message()));
  }
  const tcp::endpoint bound = impl->acceptor.local_endpoint();
  impl->address = bound.address().is_v6()
                      ? absl::StrCat("[", bound.address().to_string(), "]:", bound.port())
                      : absl::StrCat(bound.address().to_string(), ":", bound.port());
  impl->work.emplace(impl->io.get_executor());
  impl->Accept();
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    impl->threads.emplace_back([io = &impl->io] { io->run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::~HttpServer() { Shutdown(absl::ZeroDuration()); }

std::string HttpServer::address() const { return impl_->address; }

void HttpServer::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&impl_->mu);
    if (impl_->shut_down) return;
    impl_->shut_down = true;
  }
  impl_->stopping = true;
  asio::post(impl_->io, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    impl->accept_retry.cancel();
  });
  const absl::Time deadline = absl::Now() + grace;
  while (impl_->in_flight.load() > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  impl_->work.reset();
  impl_->io.stop();
  for (std::thread& thread : impl_->threads) thread.join();
}

}  // namespace linechannel::server
