#ifndef LINECHANNEL_TOOLS_FAKE_LINE_SIGNATURE_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_SIGNATURE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace linechannel::fake_line {

// The value LINE puts in the `x-line-signature` header of a webhook: standard base64 (with
// padding, 44 characters) of HMAC-SHA256 keyed with the channel secret's bytes over the exact
// body bytes. Written independently of the server's verifier on purpose, so that one bug cannot
// hide in both. Thread-safe.
std::string SignWebhookBody(absl::string_view channel_secret, absl::string_view body);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_SIGNATURE_H_
