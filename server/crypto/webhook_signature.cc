#include "server/crypto/webhook_signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/strings/escaping.h"

namespace linechannel::server {

std::string WebhookSignature(const Secret& channel_secret, absl::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  const std::string& key = channel_secret.Reveal();
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &mac_length);
  return absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(mac), mac_length));
}

bool IsValidWebhookSignature(const Secret& channel_secret, absl::string_view body,
                             absl::string_view signature) {
  const std::string expected = WebhookSignature(channel_secret, body);
  // The length of a valid signature is public (44 characters); only the content is compared
  // in constant time.
  return signature.size() == expected.size() &&
         CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) == 0;
}

}  // namespace linechannel::server
