#ifndef LINECHANNEL_TOOLS_FAKE_LINE_JSON_WRITER_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_JSON_WRITER_H_

#include <google/protobuf/struct.pb.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace linechannel::fake_line {

class JsonArray;

// Builds one JSON object. Serialisation (escaping included) is protobuf's JSON printer on a
// google.protobuf.Struct, so nothing here escapes by hand. Numbers are doubles, so integers are
// exact up to 2^53 (enough for millisecond timestamps and counters). Key order in the output is
// unspecified. Not thread-safe; use one per answer.
class JsonObject {
 public:
  JsonObject& Set(absl::string_view key, absl::string_view value);
  JsonObject& Set(absl::string_view key, const char* value);
  JsonObject& Set(absl::string_view key, bool value);
  template <typename T,
            std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, int> = 0>
  JsonObject& Set(absl::string_view key, T value) {
    return SetNumber(key, static_cast<double>(value));
  }
  JsonObject& Set(absl::string_view key, const JsonObject& value);
  JsonObject& Set(absl::string_view key, const JsonArray& value);
  // Sets `key` to the value written in `json` (any JSON value). INVALID_ARGUMENT, leaving the
  // object as it was, if `json` is not valid JSON.
  absl::Status SetJson(absl::string_view key, absl::string_view json);

  // The object as compact JSON text.
  std::string ToString() const;
  const google::protobuf::Struct& proto() const { return proto_; }

 private:
  JsonObject& SetNumber(absl::string_view key, double value);
  google::protobuf::Value& Field(absl::string_view key);

  google::protobuf::Struct proto_;
};

// Builds one JSON array; same rules as JsonObject.
class JsonArray {
 public:
  JsonArray& Add(absl::string_view value);
  JsonArray& Add(const JsonObject& value);
  bool empty() const { return proto_.values_size() == 0; }

  std::string ToString() const;
  const google::protobuf::ListValue& proto() const { return proto_; }

 private:
  google::protobuf::ListValue proto_;
};

// `value` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view value);

// Rewrites every non-ASCII character of `json` (which must be UTF-8) as a \uXXXX escape, using
// a UTF-16 surrogate pair above U+FFFF, the way LINE writes webhook bodies (an emoji becomes
// "\uD83D\uDE00"). Valid anywhere in a JSON text, since non-ASCII can only occur inside
// strings. A byte that is not valid UTF-8 becomes \uFFFD.
std::string EscapeNonAscii(absl::string_view json);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_JSON_WRITER_H_
