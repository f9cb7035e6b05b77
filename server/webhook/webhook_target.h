#ifndef LINECHANNEL_SERVER_WEBHOOK_WEBHOOK_TARGET_H_
#define LINECHANNEL_SERVER_WEBHOOK_WEBHOOK_TARGET_H_

#include <cstdint>
#include <string>

#include "server/crypto/secret.h"

namespace linechannel::server {

// What the webhook endpoint needs to check a request for a binding.
struct WebhookTarget {
  int64_t row_id = 0;
  std::string binding_id;
  std::string team_id;
  std::string channel_id;
  std::string webhook_key;
  // Empty for bindings made with LINE checks off: the destination cannot be checked.
  std::string bot_user_id;
  Secret channel_secret;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_WEBHOOK_WEBHOOK_TARGET_H_
