#ifndef LINECHANNEL_SERVER_CRYPTO_SEALING_CONTEXTS_H_
#define LINECHANNEL_SERVER_CRYPTO_SEALING_CONTEXTS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace linechannel::server {

// The sealing contexts of a binding's secrets (SecretSealer's associated data): a sealed value
// opens only for its own channel and field, so a value copied to another row cannot be opened.
std::string SecretContext(absl::string_view channel_id);
std::string TokenContext(absl::string_view channel_id);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_CRYPTO_SEALING_CONTEXTS_H_
