#include "client/credential_input.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace linechannel::client {
namespace {

// The non-empty lines of `text`, trimmed.
std::vector<std::string> Values(const std::string& text) {
  std::vector<std::string> values;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) values.emplace_back(line);
  }
  return values;
}

absl::StatusOr<std::string> ReadAll(const std::string& path, std::istream& stdin) {
  std::ostringstream buffer;
  if (path == "-") {
    buffer << stdin.rdbuf();
  } else {
    std::ifstream file(path, std::ios::binary);
    if (!file) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
    buffer << file.rdbuf();
  }
  return buffer.str();
}

absl::StatusOr<std::string> ReadOne(const std::string& path, absl::string_view what,
                                    std::istream& stdin) {
  absl::StatusOr<std::string> text = ReadAll(path, stdin);
  if (!text.ok()) return text.status();
  std::vector<std::string> values = Values(*text);
  const std::string source = path == "-" ? "standard input" : path;
  if (values.empty()) return absl::InvalidArgumentError(absl::StrCat(source, " holds no ", what));
  if (values.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, " holds more than one line; it must hold only the ", what));
  }
  return values[0];
}

}  // namespace

absl::StatusOr<Credentials> ReadCredentials(const std::string& secret_path,
                                            const std::string& token_path, std::istream& stdin) {
  Credentials out;
  if (secret_path == "-" && token_path == "-") {
    absl::StatusOr<std::string> text = ReadAll("-", stdin);
    if (!text.ok()) return text.status();
    std::vector<std::string> values = Values(*text);
    if (values.size() != 2) {
      return absl::InvalidArgumentError(
          "with --secret_file=- and --token_file=-, standard input must hold two lines: the "
          "channel secret, then the access token");
    }
    out.channel_secret = values[0];
    out.access_token = values[1];
    return out;
  }
  if (!secret_path.empty()) {
    absl::StatusOr<std::string> secret = ReadOne(secret_path, "channel secret", stdin);
    if (!secret.ok()) return secret.status();
    out.channel_secret = *secret;
  }
  if (!token_path.empty()) {
    absl::StatusOr<std::string> token = ReadOne(token_path, "access token", stdin);
    if (!token.ok()) return token.status();
    out.access_token = *token;
  }
  return out;
}

}  // namespace linechannel::client
