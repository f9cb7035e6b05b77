#include "server/messaging/sent_messages.h"

#include "absl/strings/str_cat.h"
#include "server/base/json_writer.h"
#include "simdjson.h"

namespace linechannel::server {

std::string EncodeSentMessages(const std::vector<LineSentMessage>& sent) {
  std::string out = "[";
  for (const LineSentMessage& message : sent) {
    if (out.size() > 1) out += ",";
    JsonObjectWriter writer;
    writer.String("id", message.id);
    if (!message.quote_token.empty()) writer.String("quoteToken", message.quote_token);
    out += writer.Finish();
  }
  return out + "]";
}

std::vector<LineSentMessage> DecodeSentMessages(absl::string_view json) {
  std::vector<LineSentMessage> sent;
  if (json.empty()) return sent;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS) return sent;
  simdjson::dom::array array;
  if (root.get_array().get(array) != simdjson::SUCCESS) return sent;
  for (simdjson::dom::element item : array) {
    LineSentMessage message;
    std::string_view text;
    if (item["id"].get_string().get(text) == simdjson::SUCCESS) message.id = std::string(text);
    if (item["quoteToken"].get_string().get(text) == simdjson::SUCCESS) {
      message.quote_token = std::string(text);
    }
    sent.push_back(std::move(message));
  }
  return sent;
}

}  // namespace linechannel::server
