#include "tools/fake_line/http_client.h"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tools/fake_line/url.h"

namespace linechannel::fake_line {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Outcome = HttpResult::Outcome;

constexpr uint64_t kMaxResponseBodyBytes = 8 << 20;

// Runs `ioc` until the operation just started has completed. Every operation below is bound by
// the tcp_stream's expiry, so this always returns by the deadline (plus scheduling noise).
void RunToCompletion(asio::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

HttpResult Fail(Outcome outcome, std::string error) {
  HttpResult result;
  result.outcome = outcome;
  result.error = std::move(error);
  return result;
}

// Write the request and read the response over an established (and, for TLS, handshaken)
// stream.
template <typename Stream>
HttpResult Exchange(asio::io_context& ioc, Stream& stream, const HttpUrl& url,
                    const HttpClient::Headers& headers, absl::string_view body) {
  http::request<http::string_body> request{http::verb::post, url.target, 11};
  request.set(http::field::host, url.host_header);
  for (const auto& [name, value] : headers) request.set(name, value);
  request.body() = std::string(body);
  request.prepare_payload();

  beast::error_code ec;
  http::async_write(stream, request, [&](beast::error_code e, size_t) { ec = e; });
  RunToCompletion(ioc);
  if (ec == beast::error::timeout) return Fail(Outcome::kTimeout, "timed out sending the request");
  if (ec) return Fail(Outcome::kFailed, absl::StrCat("sending the request: ", ec.message()));

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBodyBytes);
  http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  RunToCompletion(ioc);
  if (ec == beast::error::timeout)
    return Fail(Outcome::kTimeout, "timed out waiting for the response");
  if (ec) return Fail(Outcome::kFailed, absl::StrCat("reading the response: ", ec.message()));

  HttpResult result;
  result.outcome = Outcome::kResponse;
  result.status = static_cast<int>(parser.get().result_int());
  result.reason = std::string(parser.get().reason());
  if (result.reason.empty()) {
    result.reason = std::string(http::obsolete_reason(parser.get().result()));
  }
  result.body = std::move(parser.get().body());
  return result;
}

bool IsIpLiteral(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(const HttpClientOptions& options) {
  auto tls = std::make_unique<ssl::context>(ssl::context::tls_client);
  // LINE only speaks TLS 1.2 and 1.3 to webhook servers.
  SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
  tls->set_verify_mode(ssl::verify_peer);
  beast::error_code ec;
  if (!options.ca_file.empty()) {
    tls->load_verify_file(options.ca_file, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot load CA file ", options.ca_file, ": ", ec.message()));
    }
  } else {
    tls->set_default_verify_paths(ec);
    if (ec) {
      return absl::InvalidArgumentError(absl::StrCat("no default CA paths: ", ec.message()));
    }
  }
  return std::unique_ptr<HttpClient>(new HttpClient(options, std::move(tls)));
}

HttpClient::HttpClient(const HttpClientOptions& options, std::unique_ptr<ssl::context> tls)
    : options_(options), tls_(std::move(tls)) {}

HttpClient::~HttpClient() = default;

HttpResult HttpClient::Post(absl::string_view url_text, const Headers& headers,
                            absl::string_view body) const {
  const absl::Time start = absl::Now();
  HttpResult result = [&]() -> HttpResult {
    absl::StatusOr<HttpUrl> url = ParseHttpUrl(url_text);
    if (!url.ok()) return Fail(Outcome::kFailed, std::string(url.status().message()));
    const auto deadline =
        std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(options_.timeout);

    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    tcp::resolver::results_type endpoints;
    bool resolved = false;
    resolver.async_resolve(url->host, url->port,
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                             resolved = true;
                           });
    ioc.run_until(deadline);
    if (!resolved) {
      resolver.cancel();
      RunToCompletion(ioc);
      return Fail(Outcome::kTimeout, absl::StrCat("timed out resolving ", url->host));
    }
    if (ec) {
      return Fail(Outcome::kCouldNotConnect,
                  absl::StrCat("cannot resolve ", url->host, ": ", ec.message()));
    }

    beast::tcp_stream tcp(ioc);
    tcp.expires_at(deadline);
    tcp.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    RunToCompletion(ioc);
    if (ec == beast::error::timeout) {
      return Fail(Outcome::kTimeout, absl::StrCat("timed out connecting to ", url->host_header));
    }
    if (ec) {
      return Fail(Outcome::kCouldNotConnect,
                  absl::StrCat("cannot connect to ", url->host_header, ": ", ec.message()));
    }
    if (!url->tls) return Exchange(ioc, tcp, *url, headers, body);

    beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp), *tls_);
    if (!IsIpLiteral(url->host)) {
      // SNI, so virtual hosts present the right certificate; not allowed for IP literals.
      SSL_set_tlsext_host_name(stream.native_handle(), url->host.c_str());
    }
    stream.set_verify_callback(ssl::host_name_verification(url->host));
    stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
    RunToCompletion(ioc);
    if (ec == beast::error::timeout) {
      return Fail(Outcome::kTimeout, "timed out in the TLS handshake");
    }
    if (ec) {
      return Fail(Outcome::kTlsFailure, absl::StrCat("TLS handshake failed: ", ec.message()));
    }
    return Exchange(ioc, stream, *url, headers, body);
  }();
  result.latency = absl::Now() - start;
  return result;
}

}  // namespace linechannel::fake_line
