#include "tests/support/scripted_http_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>

#include "absl/strings/ascii.h"

namespace linechannel::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct ScriptedHttpServer::Impl {
  Handler handler;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  absl::Mutex mu;
  std::vector<Request> requests ABSL_GUARDED_BY(mu);
  std::vector<std::thread> connections ABSL_GUARDED_BY(mu);
  std::vector<std::shared_ptr<tcp::socket>> sockets ABSL_GUARDED_BY(mu);

  void Serve(std::shared_ptr<tcp::socket> socket) {
    beast::flat_buffer buffer;
    while (!stopping) {
      http::request<http::string_body> in;
      beast::error_code ec;
      http::read(*socket, buffer, in, ec);
      if (ec) return;
      Request request;
      request.method = std::string(in.method_string());
      request.target = std::string(in.target());
      for (const auto& field : in) {
        request.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
            std::string(field.value());
      }
      request.body = in.body();
      {
        absl::MutexLock lock(&mu);
        requests.push_back(request);
      }
      Response response = handler(request);
      if (response.delay > absl::ZeroDuration()) absl::SleepFor(response.delay);
      http::response<http::string_body> out{static_cast<http::status>(response.status),
                                            in.version()};
      out.set(http::field::content_type, "application/json");
      for (const auto& [name, value] : response.headers) out.set(name, value);
      out.body() = response.body;
      out.keep_alive(in.keep_alive());
      out.prepare_payload();
      http::write(*socket, out, ec);
      if (ec || !in.keep_alive()) return;
    }
  }
};

ScriptedHttpServer::ScriptedHttpServer(Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept_thread = std::thread([impl = impl_.get()] {
    while (!impl->stopping) {
      auto socket = std::make_shared<tcp::socket>(impl->io);
      beast::error_code ec;
      impl->acceptor.accept(*socket, ec);
      if (ec || impl->stopping) return;
      absl::MutexLock lock(&impl->mu);
      impl->sockets.push_back(socket);
      impl->connections.emplace_back([impl, socket] { impl->Serve(socket); });
    }
  });
}

ScriptedHttpServer::~ScriptedHttpServer() {
  impl_->stopping = true;
  beast::error_code ec;
  {
    // A blocked accept() does not notice the acceptor closing; a connection wakes it.
    tcp::socket waker(impl_->io);
    waker.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  }
  impl_->accept_thread.join();
  impl_->acceptor.close(ec);
  std::vector<std::thread> connections;
  {
    absl::MutexLock lock(&impl_->mu);
    for (auto& socket : impl_->sockets) socket->shutdown(tcp::socket::shutdown_both, ec);
    connections.swap(impl_->connections);
  }
  for (auto& thread : connections) thread.join();
}

int ScriptedHttpServer::connections() const {
  absl::MutexLock lock(&impl_->mu);
  return static_cast<int>(impl_->sockets.size());
}

std::vector<ScriptedHttpServer::Request> ScriptedHttpServer::requests() const {
  absl::MutexLock lock(&impl_->mu);
  return impl_->requests;
}

}  // namespace linechannel::testing
