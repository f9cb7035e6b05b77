#include "tools/fake_line/json_writer.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_format.h"

namespace linechannel::fake_line {
namespace {

template <typename Message>
std::string Print(const Message& message) {
  std::string out;
  // Printing a Struct/Value/ListValue fails only for non-UTF-8 strings or non-finite numbers;
  // the fake never builds either, so an empty object is a safe (and visible) fallback.
  if (!google::protobuf::util::MessageToJsonString(message, &out).ok()) return "{}";
  return out;
}

}  // namespace

google::protobuf::Value& JsonObject::Field(absl::string_view key) {
  return (*proto_.mutable_fields())[std::string(key)];
}

JsonObject& JsonObject::Set(absl::string_view key, absl::string_view value) {
  Field(key).set_string_value(std::string(value));
  return *this;
}

JsonObject& JsonObject::Set(absl::string_view key, const char* value) {
  return Set(key, absl::string_view(value));
}

JsonObject& JsonObject::Set(absl::string_view key, bool value) {
  Field(key).set_bool_value(value);
  return *this;
}

JsonObject& JsonObject::SetNumber(absl::string_view key, double value) {
  Field(key).set_number_value(value);
  return *this;
}

JsonObject& JsonObject::Set(absl::string_view key, const JsonObject& value) {
  *Field(key).mutable_struct_value() = value.proto();
  return *this;
}

JsonObject& JsonObject::Set(absl::string_view key, const JsonArray& value) {
  *Field(key).mutable_list_value() = value.proto();
  return *this;
}

absl::Status JsonObject::SetJson(absl::string_view key, absl::string_view json) {
  google::protobuf::Value value;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &value).ok()) {
    return absl::InvalidArgumentError("not valid JSON");
  }
  Field(key) = std::move(value);
  return absl::OkStatus();
}

std::string JsonObject::ToString() const { return Print(proto_); }

JsonArray& JsonArray::Add(absl::string_view value) {
  proto_.add_values()->set_string_value(std::string(value));
  return *this;
}

JsonArray& JsonArray::Add(const JsonObject& value) {
  *proto_.add_values()->mutable_struct_value() = value.proto();
  return *this;
}

std::string JsonArray::ToString() const { return Print(proto_); }

std::string JsonQuote(absl::string_view value) {
  google::protobuf::Value v;
  v.set_string_value(std::string(value));
  return Print(v);
}

std::string EscapeNonAscii(absl::string_view json) {
  std::string out;
  out.reserve(json.size());
  size_t i = 0;
  while (i < json.size()) {
    const unsigned char lead = static_cast<unsigned char>(json[i]);
    if (lead < 0x80) {
      out.push_back(static_cast<char>(lead));
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence; reject overlong forms, surrogates and truncation.
    size_t length = 0;
    uint32_t code_point = 0;
    uint32_t minimum = 0;
    if ((lead & 0xE0) == 0xC0) {
      length = 2, code_point = lead & 0x1F, minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code_point = lead & 0x0F, minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code_point = lead & 0x07, minimum = 0x10000;
    }
    bool valid = length != 0 && i + length <= json.size();
    for (size_t k = 1; valid && k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(json[i + k]);
      if ((next & 0xC0) != 0x80) valid = false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (valid && (code_point < minimum || code_point > 0x10FFFF ||
                  (code_point >= 0xD800 && code_point <= 0xDFFF))) {
      valid = false;
    }
    if (!valid) {
      out.append("\\uFFFD");
      ++i;
      continue;
    }
    if (code_point >= 0x10000) {
      const uint32_t v = code_point - 0x10000;
      absl::StrAppendFormat(&out, "\\u%04X\\u%04X", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
    } else {
      absl::StrAppendFormat(&out, "\\u%04X", code_point);
    }
    i += length;
  }
  return out;
}

}  // namespace linechannel::fake_line
