#ifndef LINECHANNEL_CLIENT_CREDENTIAL_INPUT_H_
#define LINECHANNEL_CLIENT_CREDENTIAL_INPUT_H_

#include <istream>
#include <string>

#include "absl/status/statusor.h"

namespace linechannel::client {

// A channel secret and access token as the operator supplied them. Never from argv, where
// every user of the machine could read them (ps, /proc, shell history).
struct Credentials {
  std::string channel_secret;
  std::string access_token;
};

// Reads the secret from `secret_path` and the token from `token_path`; either may be empty
// (not wanted) or "-" (standard input). When both are "-", standard input holds the secret on
// its first line and the token on its second. Surrounding whitespace and line breaks are
// removed. INVALID_ARGUMENT if a file cannot be read, is empty or holds more than one value;
// the message never contains a file's content.
absl::StatusOr<Credentials> ReadCredentials(const std::string& secret_path,
                                            const std::string& token_path, std::istream& stdin);

}  // namespace linechannel::client

#endif  // LINECHANNEL_CLIENT_CREDENTIAL_INPUT_H_
