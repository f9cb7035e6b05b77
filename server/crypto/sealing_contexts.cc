#include "server/crypto/sealing_contexts.h"

#include "absl/strings/str_cat.h"

namespace linechannel::server {

std::string SecretContext(absl::string_view channel_id) {
  return absl::StrCat("channel_secret:", channel_id);
}

std::string TokenContext(absl::string_view channel_id) {
  return absl::StrCat("access_token:", channel_id);
}

}  // namespace linechannel::server
