#include "server/base/json_writer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace linechannel::server {
namespace {

// Length of the well-formed UTF-8 sequence at the start of `text`, or 0 if there is none
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(absl::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const auto continuation = [&](size_t i) { return i < text.size() && (byte(i) & 0xC0) == 0x80; };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;   // Overlong.
    if (lead == 0xED && byte(1) >= 0xA0) return 0;  // Surrogate.
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0 && byte(1) < 0x90) return 0;   // Overlong.
    if (lead == 0xF4 && byte(1) >= 0x90) return 0;  // Past U+10FFFF.
    return 4;
  }
  return 0;
}

}  // namespace

std::string JsonString(absl::string_view text) {
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

void AppendJsonString(absl::string_view text, std::string* out) {
  out->reserve(out->size() + text.size() + 2);
  *out += '"';
  while (!text.empty()) {
    // Plain printable ASCII, the common case, is copied a run at a time.
    size_t plain = 0;
    while (plain < text.size()) {
      const unsigned char c = static_cast<unsigned char>(text[plain]);
      if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') break;
      ++plain;
    }
    out->append(text.data(), plain);
    text.remove_prefix(plain);
    if (text.empty()) break;
    const unsigned char c = static_cast<unsigned char>(text[0]);
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += static_cast<char>(c);
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      absl::StrAppendFormat(out, "\\u%04x", c);
    } else {
      const size_t length = Utf8SequenceLength(text);
      if (length == 0) {
        *out += "\xEF\xBF\xBD";  // U+FFFD for one stray byte.
        text.remove_prefix(1);
      } else {
        out->append(text.data(), length);
        text.remove_prefix(length);
      }
      continue;
    }
    text.remove_prefix(1);
  }
  *out += '"';
}

JsonObjectWriter& JsonObjectWriter::String(absl::string_view key, absl::string_view value) {
  return Raw(key, JsonString(value));
}

JsonObjectWriter& JsonObjectWriter::Int(absl::string_view key, int64_t value) {
  return Raw(key, absl::StrCat(value));
}

JsonObjectWriter& JsonObjectWriter::Bool(absl::string_view key, bool value) {
  return Raw(key, value ? "true" : "false");
}

JsonObjectWriter& JsonObjectWriter::Raw(absl::string_view key, absl::string_view json) {
  if (text_.size() > 1) text_ += ',';
  AppendJsonString(key, &text_);
  text_ += ':';
  text_.append(json.data(), json.size());
  return *this;
}

std::string JsonObjectWriter::Finish() {
  text_ += '}';
  return std::move(text_);
}

}  // namespace linechannel::server
