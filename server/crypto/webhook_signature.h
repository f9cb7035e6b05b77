#ifndef LINECHANNEL_SERVER_CRYPTO_WEBHOOK_SIGNATURE_H_
#define LINECHANNEL_SERVER_CRYPTO_WEBHOOK_SIGNATURE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "server/crypto/secret.h"

namespace linechannel::server {

// LINE's webhook signature: base64 (standard, padded) of HMAC-SHA256 over the raw body bytes,
// keyed with the channel secret's bytes.
std::string WebhookSignature(const Secret& channel_secret, absl::string_view body);

// Whether `signature` (the x-line-signature header value, as received) is the body's
// signature under `channel_secret`. Compares in constant time; never parses the body.
bool IsValidWebhookSignature(const Secret& channel_secret, absl::string_view body,
                             absl::string_view signature);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_CRYPTO_WEBHOOK_SIGNATURE_H_
