#include "tests/tools/webhook_receiver.h"

#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace linechannel::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct WebhookReceiver::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::optional<ssl::context> tls;
  int port = 0;
  std::thread accept_thread;

  mutable absl::Mutex mu;
  bool stopping ABSL_GUARDED_BY(mu) = false;
  bool holding ABSL_GUARDED_BY(mu) = false;
  int status ABSL_GUARDED_BY(mu) = 200;
  std::vector<Request> requests ABSL_GUARDED_BY(mu);
  std::vector<std::shared_ptr<tcp::socket>> sockets ABSL_GUARDED_BY(mu);
  std::vector<std::thread> threads ABSL_GUARDED_BY(mu);

  void AcceptLoop() {
    while (true) {
      auto socket = std::make_shared<tcp::socket>(ioc);
      beast::error_code ec;
      acceptor.accept(*socket, ec);
      absl::MutexLock lock(&mu);
      if (stopping) return;
      if (ec) continue;
      sockets.push_back(socket);
      threads.emplace_back([this, socket] { Serve(*socket); });
    }
  }

  template <typename Stream>
  void Exchange(Stream& stream) {
    beast::flat_buffer buffer;
    while (true) {
      http::request<http::string_body> in;
      beast::error_code ec;
      http::read(stream, buffer, in, ec);
      if (ec) return;
      Request request;
      request.method = std::string(in.method_string());
      request.target = std::string(in.target());
      for (const auto& field : in) {
        request.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
            std::string(field.value());
      }
      request.body = in.body();
      int answer = 200;
      {
        absl::MutexLock lock(&mu);
        requests.push_back(std::move(request));
        // A held request waits for Release() or shutdown, never for a fixed time.
        mu.Await(absl::Condition(
            +[](Impl* impl)
                 ABSL_NO_THREAD_SAFETY_ANALYSIS { return !impl->holding || impl->stopping; },
            this));
        if (stopping) return;
        answer = status;
      }
      http::response<http::string_body> out{static_cast<http::status>(answer), in.version()};
      out.set(http::field::content_type, "text/plain");
      out.body() = answer == 200 ? "OK" : "nope";
      out.keep_alive(in.keep_alive());
      out.prepare_payload();
      http::write(stream, out, ec);
      if (ec || !in.keep_alive()) return;
    }
  }

  void Serve(tcp::socket& socket) {
    if (!tls.has_value()) {
      Exchange(socket);
    } else {
      ssl::stream<tcp::socket&> stream(socket, *tls);
      beast::error_code ec;
      stream.handshake(ssl::stream_base::server, ec);
      if (!ec) Exchange(stream);
    }
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  void Start() {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    accept_thread = std::thread([this] { AcceptLoop(); });
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu);
      stopping = true;
      for (auto& socket : sockets) ::shutdown(socket->native_handle(), SHUT_RDWR);
    }
    // shutdown(2) on a listening socket makes a blocked accept() return on Linux.
    ::shutdown(acceptor.native_handle(), SHUT_RDWR);
    accept_thread.join();
    std::vector<std::thread> to_join;
    {
      absl::MutexLock lock(&mu);
      to_join.swap(threads);
    }
    for (auto& thread : to_join) thread.join();
  }
};

WebhookReceiver::WebhookReceiver() : impl_(std::make_shared<Impl>()) { impl_->Start(); }

WebhookReceiver::WebhookReceiver(const TlsIdentity& identity) : impl_(std::make_shared<Impl>()) {
  impl_->tls.emplace(ssl::context::tls_server);
  impl_->tls->use_certificate_chain(
      asio::buffer(identity.certificate_chain_pem.data(), identity.certificate_chain_pem.size()));
  impl_->tls->use_private_key(
      asio::buffer(identity.private_key_pem.data(), identity.private_key_pem.size()),
      ssl::context::pem);
  impl_->Start();
}

WebhookReceiver::~WebhookReceiver() { impl_->Stop(); }

int WebhookReceiver::port() const { return impl_->port; }

std::string WebhookReceiver::Url(const std::string& path) const {
  return absl::StrCat(
      impl_->tls.has_value() ? "https://localhost:" : "http://127.0.0.1:", impl_->port, path);
}

void WebhookReceiver::AnswerWith(int status) {
  absl::MutexLock lock(&impl_->mu);
  impl_->status = status;
}

void WebhookReceiver::Hold() {
  absl::MutexLock lock(&impl_->mu);
  impl_->holding = true;
}

void WebhookReceiver::Release() {
  absl::MutexLock lock(&impl_->mu);
  impl_->holding = false;
}

std::vector<WebhookReceiver::Request> WebhookReceiver::requests() const {
  absl::MutexLock lock(&impl_->mu);
  return impl_->requests;
}

}  // namespace linechannel::testing

namespace linechannel::testing {

int ClosedPort() {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

bool WebhookReceiver::WaitForRequests(size_t count, absl::Duration timeout) const {
  struct Wanted {
    const Impl* impl;
    size_t count;
  } wanted{impl_.get(), count};
  absl::MutexLock lock(&impl_->mu);
  return impl_->mu.AwaitWithTimeout(absl::Condition(
                                        +[](Wanted* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                          return w->impl->requests.size() >= w->count;
                                        },
                                        &wanted),
                                    timeout);
}

}  // namespace linechannel::testing
