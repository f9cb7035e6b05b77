#include "tools/fake_line/http_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <iostream>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tools/fake_line/json_writer.h"
#include "tools/fake_line/random_ids.h"

namespace linechannel::fake_line {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr uint64_t kMaxRequestBodyBytes = 16 << 20;
constexpr size_t kStreamChunkBytes = 64 << 10;

HttpResponse ErrorResponse(int status, absl::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body = JsonObject().Set("message", message).ToString();
  return response;
}

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream;
}

}  // namespace

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  HttpHandler handler;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  asio::steady_timer retry_timer{ioc};
  std::thread accept_thread;
  int port = 0;

  absl::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  int active ABSL_GUARDED_BY(mu) = 0;
  std::set<std::shared_ptr<tcp::socket>> sockets ABSL_GUARDED_BY(mu);
  // Connection threads are joined, not detached, so that none is still tearing down its
  // thread-locals (OpenSSL's, for one) when the process exits.
  uint64_t next_thread_id ABSL_GUARDED_BY(mu) = 0;
  std::map<uint64_t, std::thread> threads ABSL_GUARDED_BY(mu);
  // Threads done serving, joined by the next accept or by Shutdown().
  std::vector<std::thread> finished ABSL_GUARDED_BY(mu);

  void Accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      self->OnAccept(ec, std::move(socket));
    });
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    auto connection = std::make_shared<tcp::socket>(std::move(socket));
    std::vector<std::thread> done;
    {
      absl::MutexLock lock(&mu);
      if (stopping) return;
      done.swap(finished);
      if (!ec) {
        // Registered before the thread starts, so Shutdown() can always reach it; the thread
        // itself needs `mu` to finish, so it cannot end before it is in `threads`.
        sockets.insert(connection);
        ++active;
        const uint64_t id = next_thread_id++;
        threads.emplace(id, std::thread([self = shared_from_this(), connection, id] {
                          self->Serve(connection, id);
                        }));
      }
    }
    for (std::thread& thread : done) thread.join();
    if (!ec) {
      Accept();
      return;
    }
    // Typically out of file descriptors: retrying at once would spin, so wait a little.
    std::cerr << "fake_line: accept failed: " << ec.message() << std::endl;
    retry_timer.expires_after(std::chrono::milliseconds(50));
    retry_timer.async_wait([self = shared_from_this()](beast::error_code wait_error) {
      if (!wait_error) self->Accept();
    });
  }

  void Write(tcp::socket& socket, const HttpResponse& response, const std::string& request_id,
             unsigned version, bool keep_alive, beast::error_code& ec) {
    if (response.stream != nullptr) {
      WriteStream(socket, response, request_id, version, keep_alive, ec);
      return;
    }
    http::response<http::string_body> out{static_cast<http::status>(response.status), version};
    out.set(http::field::content_type, response.content_type);
    out.set("X-Line-Request-Id", request_id);
    for (const auto& [name, value] : response.headers) out.set(name, value);
    out.body() = response.body;
    out.keep_alive(keep_alive);
    out.prepare_payload();
    http::write(socket, out, ec);
  }

  // Writes the header with the stream's length, then the body in pieces of kStreamChunkBytes
  // from one buffer, so memory stays flat whatever the length.
  void WriteStream(tcp::socket& socket, const HttpResponse& response, const std::string& request_id,
                   unsigned version, bool keep_alive, beast::error_code& ec) {
    http::response<http::empty_body> out{static_cast<http::status>(response.status), version};
    out.set(http::field::content_type, response.content_type);
    out.set("X-Line-Request-Id", request_id);
    for (const auto& [name, value] : response.headers) out.set(name, value);
    out.keep_alive(keep_alive);
    out.content_length(response.stream->length);
    http::response_serializer<http::empty_body> serializer(out);
    http::write_header(socket, serializer, ec);
    std::vector<char> chunk(kStreamChunkBytes);
    for (uint64_t offset = 0; !ec && offset < response.stream->length;) {
      const size_t size =
          static_cast<size_t>(std::min<uint64_t>(chunk.size(), response.stream->length - offset));
      response.stream->fill(offset, size, chunk.data());
      asio::write(socket, asio::buffer(chunk.data(), size), ec);
      offset += size;
    }
  }

  void Serve(std::shared_ptr<tcp::socket> connection, uint64_t thread_id) {
    tcp::socket& socket = *connection;
    beast::flat_buffer buffer;
    beast::error_code ec;
    while (true) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kMaxRequestBodyBytes);
      http::read_header(socket, buffer, parser, ec);
      if (ec) {
        if (IsHttpParseError(ec))
          Write(socket, ErrorResponse(400, "Bad request"), RandomUuid(), 11, false, ec);
        break;
      }
      if (absl::EqualsIgnoreCase(std::string(parser.get()[http::field::expect]), "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
        http::write(socket, go_on, ec);
        if (ec) break;
      }
      http::read(socket, buffer, parser, ec);
      const unsigned version = parser.get().version();
      if (ec == http::error::body_limit) {
        Write(socket, ErrorResponse(413, "Request body too large"), RandomUuid(), version, false,
              ec);
        break;
      }
      if (ec) {
        if (IsHttpParseError(ec)) {
          Write(socket, ErrorResponse(400, "Bad request"), RandomUuid(), version, false, ec);
        }
        break;
      }
      http::request<http::string_body> in = parser.release();
      HttpRequest request;
      request.method = std::string(in.method_string());
      const std::string target(in.target());
      const size_t question = target.find('?');
      request.path = target.substr(0, question);
      if (question != std::string::npos) request.query = target.substr(question + 1);
      for (const auto& field : in) {
        request.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
            std::string(field.value());
      }
      request.body = std::move(in.body());
      request.request_id = RandomUuid();
      const HttpResponse response = handler(request);
      if (response.drop_connection) break;
      const bool keep_alive = in.keep_alive();
      Write(socket, response, request.request_id, version, keep_alive, ec);
      if (ec || !keep_alive) break;
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
    absl::MutexLock lock(&mu);
    sockets.erase(connection);
    socket.close(ec);
    --active;
    // Absent if Shutdown() gave up waiting and detached this thread.
    if (auto self = threads.find(thread_id); self != threads.end()) {
      finished.push_back(std::move(self->second));
      threads.erase(self);
    }
  }
};

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& host, int port,
                                                              HttpHandler handler) {
  auto impl = std::make_shared<Impl>();
  impl->handler = std::move(handler);
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("bad listen address \"", host, "\""));
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, ": ", ec.message()));
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->Accept();
  impl->accept_thread = std::thread([raw = impl.get()] { raw->ioc.run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::~HttpServer() { Shutdown(absl::ZeroDuration()); }

int HttpServer::port() const { return impl_->port; }

bool HttpServer::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&impl_->mu);
    if (!impl_->stopping) {
      impl_->stopping = true;
      // shutdown(2) wakes a thread blocked reading the socket; the owning thread closes it.
      for (const auto& socket : impl_->sockets) ::shutdown(socket->native_handle(), SHUT_RDWR);
    }
  }
  if (impl_->accept_thread.joinable()) {
    asio::post(impl_->ioc, [impl = impl_.get()] {
      beast::error_code ec;
      impl->acceptor.close(ec);
      impl->retry_timer.cancel();
    });
    impl_->accept_thread.join();
  }
  Impl* impl = impl_.get();
  std::vector<std::thread> done;
  bool all_done = false;
  {
    absl::MutexLock lock(&impl->mu);
    all_done = impl->mu.AwaitWithTimeout(
        absl::Condition(
            +[](Impl* i) ABSL_NO_THREAD_SAFETY_ANALYSIS { return i->active == 0; }, impl),
        grace);
    done.swap(impl->finished);
    // Stragglers keep the Impl alive through their shared_ptr; they are let go.
    for (auto& [id, thread] : impl->threads) thread.detach();
    impl->threads.clear();
  }
  for (std::thread& thread : done) thread.join();
  return all_done;
}

}  // namespace linechannel::fake_line
