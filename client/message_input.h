#ifndef LINECHANNEL_CLIENT_MESSAGE_INPUT_H_
#define LINECHANNEL_CLIENT_MESSAGE_INPUT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace linechannel::client {

// How channelctl turns an operator's input into the LINE message objects (JSON text, one per
// element) that ReplyMessage and PushMessage take. Only the shape is looked at here; the server
// checks each message against LINE's rules and names every bad one.

// `text` as a JSON string literal, quotes included: '"', '\' and control characters escaped,
// everything else (non-ASCII, emoji) kept as UTF-8. INVALID_ARGUMENT if `text` is not UTF-8.
absl::StatusOr<std::string> JsonString(const std::string& text);

// One {"type":"text","text":...} message per element of `texts`, in order.
// INVALID_ARGUMENT if one is not UTF-8 (the message says which --text).
absl::StatusOr<std::vector<std::string>> TextMessages(const std::vector<std::string>& texts);

// The messages of a --message_file's content: one JSON object (sent as it is), or a JSON array
// whose elements are each sent as their own message, byte for byte as written.
// INVALID_ARGUMENT if the content is not JSON, or neither an object nor an array of objects;
// the message never quotes the content.
absl::StatusOr<std::vector<std::string>> MessagesFromJson(const std::string& content);

}  // namespace linechannel::client

#endif  // LINECHANNEL_CLIENT_MESSAGE_INPUT_H_
