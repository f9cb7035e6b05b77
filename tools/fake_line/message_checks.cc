#include "tools/fake_line/message_checks.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tools/fake_line/json_reader.h"

namespace linechannel::fake_line {
namespace {

constexpr size_t kMaxMessages = 5;
constexpr int64_t kMaxTextLength = 5000;

struct TypeRule {
  const char* type;
  const char* required[4];  // Unused slots are null.
};

// The message types LINE accepts for reply and push, and the fields each cannot do without.
const TypeRule kTypeRules[] = {
    {"text", {"text"}},
    {"textV2", {"text"}},
    {"sticker", {"packageId", "stickerId"}},
    {"image", {"originalContentUrl", "previewImageUrl"}},
    {"video", {"originalContentUrl", "previewImageUrl"}},
    {"audio", {"originalContentUrl", "duration"}},
    {"location", {"title", "address", "latitude", "longitude"}},
    {"imagemap", {"baseUrl", "altText", "baseSize", "actions"}},
    {"template", {"altText", "template"}},
    {"flex", {"altText", "contents"}},
    {"coupon", {"couponId"}},
};

const TypeRule* RuleFor(absl::string_view type) {
  for (const TypeRule& rule : kTypeRules) {
    if (type == rule.type) return &rule;
  }
  return nullptr;
}

std::optional<BodyProblem> CheckMessage(simdjson::dom::element element, size_t index) {
  const std::string at = absl::StrCat("messages[", index, "]");
  simdjson::dom::object message;
  if (element.get_object().get(message)) return BodyProblem{"must be an object", at};
  std::string_view type;
  if (message.at_key("type").get_string().get(type)) {
    return BodyProblem{"must be specified", at + ".type"};
  }
  const TypeRule* rule = RuleFor(ToAbsl(type));
  if (rule == nullptr) return BodyProblem{"Invalid message type", at + ".type"};
  for (const char* field : rule->required) {
    if (field == nullptr) break;
    simdjson::dom::element value;
    if (message.at_key(field).get(value)) {
      return BodyProblem{"must be specified", absl::StrCat(at, ".", field)};
    }
  }
  if (ToAbsl(type) == "text" || ToAbsl(type) == "textV2") {
    std::string_view text;
    if (message.at_key("text").get_string().get(text)) {
      return BodyProblem{"must be a string", at + ".text"};
    }
    if (text.empty()) return BodyProblem{"may not be empty", at + ".text"};
    if (Utf16Length(ToAbsl(text)) > kMaxTextLength) {
      return BodyProblem{absl::StrCat("Length must be between 0 and ", kMaxTextLength),
                         at + ".text"};
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<BodyProblem> CheckMessages(simdjson::dom::element messages) {
  simdjson::dom::array array;
  if (messages.get_array().get(array)) return BodyProblem{"must be an array", "messages"};
  if (array.size() < 1 || array.size() > kMaxMessages) {
    return BodyProblem{absl::StrCat("Size must be between 1 and ", kMaxMessages), "messages"};
  }
  size_t index = 0;
  for (simdjson::dom::element element : array) {
    if (auto problem = CheckMessage(element, index++)) return problem;
  }
  return std::nullopt;
}

bool IsChatId(absl::string_view id) {
  if (id.size() != 33 || (id[0] != 'U' && id[0] != 'C' && id[0] != 'R')) return false;
  for (char c : id.substr(1)) {
    if (!absl::ascii_isdigit(c) && (c < 'a' || c > 'f')) return false;
  }
  return true;
}

bool IsRetryKey(absl::string_view key) {
  if (key.size() != 36) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? key[i] != '-' : !absl::ascii_isxdigit(key[i])) return false;
  }
  return true;
}

int64_t Utf16Length(absl::string_view text) {
  int64_t units = 0;
  for (char c : text) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if ((byte & 0xC0) == 0x80) continue;  // A continuation byte.
    units += byte >= 0xF0 ? 2 : 1;        // Four-byte sequences need a surrogate pair.
  }
  return units;
}

}  // namespace linechannel::fake_line
