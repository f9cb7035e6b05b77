#include "tests/tools/test_http_client.h"

#include <poll.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace linechannel::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct TestHttpClient::Impl {
  int port;
  asio::io_context ioc;
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;
  bool connected = false;
  absl::Duration timeout = absl::ZeroDuration();

  // True once the socket has something to read (or was closed), false if `timeout` passed.
  bool WaitReadable() {
    if (timeout <= absl::ZeroDuration() || buffer.size() > 0) return true;
    pollfd fd{socket.native_handle(), POLLIN, 0};
    return ::poll(&fd, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) != 0;
  }

  beast::error_code Connect() {
    beast::error_code ec;
    socket = tcp::socket(ioc);
    buffer.clear();
    socket.connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
    connected = !ec;
    return ec;
  }
};

TestHttpClient::TestHttpClient(int port) : impl_(std::make_unique<Impl>()) { impl_->port = port; }

void TestHttpClient::set_timeout(absl::Duration timeout) { impl_->timeout = timeout; }

TestHttpClient::~TestHttpClient() {
  beast::error_code ec;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ec);
  impl_->socket.close(ec);
}

absl::StatusOr<HttpReply> TestHttpClient::Call(const std::string& method, const std::string& target,
                                               const std::string& body,
                                               const std::map<std::string, std::string>& headers,
                                               const std::string& content_type) {
  http::request<http::string_body> request{http::string_to_verb(method), target, 11};
  if (request.method() == http::verb::unknown) request.method_string(method);
  request.set(http::field::host, absl::StrCat("127.0.0.1:", impl_->port));
  if (!body.empty()) request.set(http::field::content_type, content_type);
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = body;
  request.keep_alive(true);
  request.prepare_payload();

  // A kept-alive connection may have been closed by the server since the last call; a fresh
  // connection gets one retry.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = impl_->connected;
    if (!impl_->connected) {
      if (beast::error_code ec = impl_->Connect(); ec) {
        return absl::UnavailableError(absl::StrCat("connect: ", ec.message()));
      }
    }
    beast::error_code ec;
    http::write(impl_->socket, request, ec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    if (!ec && !impl_->WaitReadable()) {
      impl_->socket.close(ec);
      impl_->connected = false;
      return absl::DeadlineExceededError(absl::StrCat(method, " ", target, ": no answer within ",
                                                      absl::FormatDuration(impl_->timeout)));
    }
    if (!ec) http::read(impl_->socket, impl_->buffer, parser, ec);
    if (ec) {
      impl_->connected = false;
      if (reused) continue;
      return absl::UnavailableError(absl::StrCat(method, " ", target, ": ", ec.message()));
    }
    HttpReply reply;
    reply.status = static_cast<int>(parser.get().result_int());
    for (const auto& field : parser.get()) {
      reply.headers[absl::AsciiStrToLower(std::string(field.name_string()))] =
          std::string(field.value());
    }
    reply.body = parser.get().body();
    if (!parser.get().keep_alive()) impl_->connected = false;
    return reply;
  }
  return absl::UnavailableError(absl::StrCat(method, " ", target, ": connection lost"));
}

namespace {
HttpReply OrError(absl::StatusOr<HttpReply> reply) {
  if (reply.ok()) return *std::move(reply);
  HttpReply failed;
  failed.status = -1;
  failed.body = reply.status().ToString();
  return failed;
}
}  // namespace

HttpReply TestHttpClient::Get(const std::string& target,
                              const std::map<std::string, std::string>& headers) {
  return OrError(Call("GET", target, "", headers));
}

HttpReply TestHttpClient::PostJson(const std::string& target, const std::string& json,
                                   const std::map<std::string, std::string>& headers) {
  return OrError(Call("POST", target, json, headers));
}

HttpReply TestHttpClient::PostForm(const std::string& target, const std::string& form) {
  return OrError(Call("POST", target, form, {}, "application/x-www-form-urlencoded"));
}

HttpReply TestHttpClient::PutJson(const std::string& target, const std::string& json,
                                  const std::map<std::string, std::string>& headers) {
  return OrError(Call("PUT", target, json, headers));
}

HttpReply TestHttpClient::PatchJson(const std::string& target, const std::string& json) {
  return OrError(Call("PATCH", target, json));
}

HttpReply TestHttpClient::Delete(const std::string& target) {
  return OrError(Call("DELETE", target));
}

}  // namespace linechannel::testing
