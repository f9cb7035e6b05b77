#ifndef LINECHANNEL_TOOLS_FAKE_LINE_JSON_READER_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_JSON_READER_H_

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linechannel::fake_line {

// Thin helpers over simdjson's DOM API that turn its error codes into absl::Status with the
// field's name in the message. Elements stay valid until `parser` parses again or dies.

// simdjson speaks std::string_view; this Abseil build has its own absl::string_view.
inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// Parses `json` completely (validating all of it) and returns its top-level object.
// INVALID_ARGUMENT if it is not valid JSON or not an object.
absl::StatusOr<simdjson::dom::object> ParseJsonObject(simdjson::dom::parser& parser,
                                                      absl::string_view json);

// The value of `element` as the given type; INVALID_ARGUMENT ("`name` must be a string", ...)
// otherwise. Integers also accept integral doubles such as 5.0.
absl::StatusOr<std::string> JsonString(simdjson::dom::element element, absl::string_view name);
absl::StatusOr<bool> JsonBool(simdjson::dom::element element, absl::string_view name);
absl::StatusOr<int64_t> JsonInt(simdjson::dom::element element, absl::string_view name);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_JSON_READER_H_
