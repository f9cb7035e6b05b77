#include "tools/fake_line/url.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace linechannel::fake_line {

// Boost.URL only arrived in Boost 1.81 (we have 1.74), so this minimal splitter is ours; it
// only has to cut a URL into host, port and target, not normalise it.
absl::StatusOr<HttpUrl> ParseHttpUrl(absl::string_view url) {
  for (char c : url) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) {
      return absl::InvalidArgumentError("URL contains a space, control or non-ASCII character");
    }
  }
  HttpUrl out;
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) {
    return absl::InvalidArgumentError("URL must start with http:// or https://");
  }
  const std::string scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
  if (scheme == "https") {
    out.tls = true;
  } else if (scheme != "http") {
    return absl::InvalidArgumentError("URL must start with http:// or https://");
  }
  absl::string_view rest = url.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, authority_end);
  absl::string_view tail =
      authority_end == absl::string_view::npos ? "" : rest.substr(authority_end);
  if (absl::StrContains(authority, '@')) {
    return absl::InvalidArgumentError("URL must not contain user info");
  }
  absl::string_view port;
  if (absl::StartsWith(authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return absl::InvalidArgumentError("bad IPv6 host");
    out.host = std::string(authority.substr(1, close - 1));
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return absl::InvalidArgumentError("bad host");
      port = after.substr(1);
      if (port.empty()) return absl::InvalidArgumentError("empty port");
    }
  } else {
    const size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return absl::InvalidArgumentError("empty port");
    }
  }
  if (out.host.empty()) return absl::InvalidArgumentError("URL has no host");
  if (port.empty()) {
    out.port = out.tls ? "443" : "80";
  } else {
    int number = 0;
    if (!absl::SimpleAtoi(port, &number) || number < 1 || number > 65535 ||
        port.find_first_not_of("0123456789") != absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("bad port \"", port, "\""));
    }
    out.port = std::to_string(number);
  }
  out.host_header = std::string(authority);
  absl::string_view target = tail.substr(0, tail.find('#'));
  if (target.empty() || target[0] != '/') {
    out.target = absl::StrCat("/", target);
  } else {
    out.target = std::string(target);
  }
  return out;
}

absl::Status ValidateWebhookUrl(absl::string_view url) {
  if (url.size() > 500) {
    return absl::InvalidArgumentError("The webhook URL must be at most 500 characters");
  }
  absl::StatusOr<HttpUrl> parsed = ParseHttpUrl(url);
  if (!parsed.ok()) return parsed.status();
  return absl::OkStatus();
}

}  // namespace linechannel::fake_line
