#ifndef LINECHANNEL_TESTS_SUPPORT_MATCHERS_H_
#define LINECHANNEL_TESTS_SUPPORT_MATCHERS_H_

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "gmock/gmock.h"

namespace linechannel::testing {

// Matches "<base>/line/webhook/<key>" with a 32-character URL-safe key (192 random bits).
MATCHER_P(IsWebhookUrlOf, base, "is a webhook URL under " + std::string(base)) {
  const std::string prefix = std::string(base) + "/line/webhook/";
  if (!absl::StartsWith(arg, prefix)) return false;
  const std::string key = arg.substr(prefix.size());
  if (key.size() != 32) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_SUPPORT_MATCHERS_H_
