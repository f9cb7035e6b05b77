#ifndef LINECHANNEL_SERVER_MESSAGING_MESSAGE_CHECKS_H_
#define LINECHANNEL_SERVER_MESSAGING_MESSAGE_CHECKS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/base/errors.h"

namespace linechannel::server {

// LINE's limits on one reply or push.
inline constexpr int kMaxMessagesPerSend = 5;

// Checks the messages of a reply or push before LINE is called, as LINE's Messaging API would:
// 1 to 5 elements, each one JSON object (text, no trailing garbage) with a known `type` and
// that type's required fields, within LINE's limits (for example text 1-5,000 UTF-16 code
// units). Returns one violation per bad element or field, named as the caller wrote it
// ("messages[2].text", "messages[0].type", or `field` itself for the count), in words a user
// can act on that never quote the message text. Empty when all is well. Pure; thread-safe.
std::vector<FieldViolation> CheckMessages(const std::vector<std::string>& messages,
                                          absl::string_view field = "messages");

// The checked messages as one JSON array (what LINE's `messages` property takes), each element
// as the caller wrote it.
std::string MessagesJsonArray(const std::vector<std::string>& messages);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_MESSAGING_MESSAGE_CHECKS_H_
