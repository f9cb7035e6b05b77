#ifndef LINECHANNEL_SERVER_MESSAGING_SENT_MESSAGES_H_
#define LINECHANNEL_SERVER_MESSAGING_SENT_MESSAGES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/line/line_messaging_api.h"

namespace linechannel::server {

// The messages LINE sent for a push, as the outbox keeps them: a JSON array of
// {"id", "quoteToken"}.
std::string EncodeSentMessages(const std::vector<LineSentMessage>& sent);
// Empty for text that EncodeSentMessages did not make.
std::vector<LineSentMessage> DecodeSentMessages(absl::string_view json);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_MESSAGING_SENT_MESSAGES_H_
