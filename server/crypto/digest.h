#ifndef LINECHANNEL_SERVER_CRYPTO_DIGEST_H_
#define LINECHANNEL_SERVER_CRYPTO_DIGEST_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace linechannel::server {

// The raw 32-byte SHA-256 digest of `data`. Thread-safe.
std::string Sha256(absl::string_view data);

// True when `a` and `b` hold the same bytes. The time taken depends only on the lengths, so a
// caller comparing a secret's hash learns nothing from timing. Thread-safe.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// Overwrites `size` bytes at `data` with zeros in a way the compiler cannot drop, for buffers
// that held a secret.
void WipeBytes(void* data, size_t size);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_CRYPTO_DIGEST_H_
