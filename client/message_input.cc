#include "client/message_input.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace linechannel::client {
namespace {

// The length of the UTF-8 sequence at `s[i]`, or 0 if it is not a valid one (overlong forms,
// surrogates and code points past U+10FFFF are invalid).
size_t Utf8SequenceLength(const std::string& s, size_t i) {
  const auto byte = [&s](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  uint32_t code_point = 0;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code_point = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + k) & 0x3F);
  }
  if ((length == 3 && code_point < 0x800) || (length == 4 && code_point < 0x10000) ||
      (code_point >= 0xD800 && code_point <= 0xDFFF) || code_point > 0x10FFFF) {
    return 0;
  }
  return length;
}

// The end of the JSON value that starts at `content[start]` in already validated JSON: strings
// are skipped whole, so brackets inside them do not count.
size_t ValueEnd(const std::string& content, size_t start) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = start; i < content.size(); ++i) {
    const char c = content[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return content.size();
}

}  // namespace

absl::StatusOr<std::string> JsonString(const std::string& text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) return absl::InvalidArgumentError("the text is not valid UTF-8");
    const char c = text[i];
    if (length > 1) {
      out.append(text, i, length);
    } else if (c == '"' || c == '\\') {
      absl::StrAppend(&out, "\\", std::string(1, c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", static_cast<unsigned char>(c)));
    } else {
      out += c;
    }
    i += length;
  }
  return out + "\"";
}

absl::StatusOr<std::vector<std::string>> TextMessages(const std::vector<std::string>& texts) {
  std::vector<std::string> messages;
  for (size_t i = 0; i < texts.size(); ++i) {
    absl::StatusOr<std::string> text = JsonString(texts[i]);
    if (!text.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--text number ", i + 1, " is not valid UTF-8"));
    }
    messages.push_back(absl::StrCat(R"({"type":"text","text":)", *text, "}"));
  }
  return messages;
}

absl::StatusOr<std::vector<std::string>> MessagesFromJson(const std::string& content) {
  // Parsed once to know it is JSON (protobuf's parser, already linked); the messages are then
  // cut from the original text, so numbers and escapes reach LINE exactly as written.
  google::protobuf::Value parsed;
  if (!google::protobuf::util::JsonStringToMessage(content, &parsed).ok()) {
    return absl::InvalidArgumentError("the message file is not valid JSON");
  }
  constexpr char kShape[] =
      "the message file must hold one LINE message object or a JSON array of them";
  std::vector<std::string> messages;
  if (parsed.has_struct_value()) {
    messages.emplace_back(absl::StripAsciiWhitespace(content));
    return messages;
  }
  if (!parsed.has_list_value()) return absl::InvalidArgumentError(kShape);
  for (const google::protobuf::Value& element : parsed.list_value().values()) {
    if (!element.has_struct_value()) return absl::InvalidArgumentError(kShape);
  }
  size_t i = content.find('[') + 1;
  while (messages.size() < static_cast<size_t>(parsed.list_value().values_size())) {
    const size_t start = content.find('{', i);
    const size_t end = ValueEnd(content, start);
    messages.push_back(content.substr(start, end - start));
    i = end;
  }
  return messages;
}

}  // namespace linechannel::client
