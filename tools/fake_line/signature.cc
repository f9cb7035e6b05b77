#include "tools/fake_line/signature.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <iostream>

#include "absl/strings/escaping.h"

namespace linechannel::fake_line {

std::string SignWebhookBody(absl::string_view channel_secret, absl::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  // EVP_Q_mac rather than the HMAC() one-shot: the tests check this against HMAC(), so the
  // two sides do not even share an OpenSSL entry point.
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, channel_secret.data(),
                channel_secret.size(), reinterpret_cast<const unsigned char*>(body.data()),
                body.size(), mac, sizeof(mac), &mac_len) == nullptr) {
    // Only a broken OpenSSL installation gets here; a fake that cannot sign is useless.
    std::cerr << "fake_line: HMAC-SHA256 unavailable in OpenSSL" << std::endl;
    std::abort();
  }
  return absl::Base64Escape(absl::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

}  // namespace linechannel::fake_line
