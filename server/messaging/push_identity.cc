#include "server/messaging/push_identity.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/crypto/digest.h"

namespace linechannel::server {

std::string PushRetryKey(absl::string_view binding_id, absl::string_view request_id) {
  // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
  std::string bytes = Sha256(absl::StrCat("linechannel push retry key\n", binding_id.size(), ":",
                                          binding_id, request_id))
                          .substr(0, 16);
  // RFC 9562 version 8 (application-defined), variant 10.
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x80);
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);
  const std::string hex = absl::BytesToHexString(bytes);
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20));
}

std::string PushDigest(absl::string_view to, absl::string_view messages_json,
                       bool notification_disabled) {
  return absl::BytesToHexString(
      Sha256(absl::StrCat(to.size(), ":", to, notification_disabled ? "1" : "0", messages_json)));
}

}  // namespace linechannel::server
