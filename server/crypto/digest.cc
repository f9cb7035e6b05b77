#include "server/crypto/digest.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace linechannel::server {

std::string Sha256(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void WipeBytes(void* data, size_t size) {
  if (size > 0) OPENSSL_cleanse(data, size);
}

}  // namespace linechannel::server
