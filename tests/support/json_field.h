#ifndef LINECHANNEL_TESTS_SUPPORT_JSON_FIELD_H_
#define LINECHANNEL_TESTS_SUPPORT_JSON_FIELD_H_

#include <string>

#include "simdjson.h"

namespace linechannel::testing {

// The value at `pointer` (RFC 6901, e.g. "/channel_secret") of `json` as text: strings
// unquoted, other values as JSON. "" when absent or when `json` does not parse.
inline std::string JsonField(const std::string& json, const std::string& pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return "";
  simdjson::dom::element value;
  if (doc.at_pointer(pointer).get(value) != simdjson::SUCCESS) return "";
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) return std::string(text);
  return simdjson::minify(value);
}

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_SUPPORT_JSON_FIELD_H_
