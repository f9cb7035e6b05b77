#include "tools/fake_line/json_reader.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace linechannel::fake_line {

absl::StatusOr<simdjson::dom::object> ParseJsonObject(simdjson::dom::parser& parser,
                                                      absl::string_view json) {
  simdjson::dom::element root;
  if (auto error = parser.parse(json.data(), json.size()).get(root); error) {
    return absl::InvalidArgumentError(
        absl::StrCat("body is not valid JSON: ", simdjson::error_message(error)));
  }
  simdjson::dom::object object;
  if (root.get_object().get(object)) {
    return absl::InvalidArgumentError("body must be a JSON object");
  }
  return object;
}

absl::StatusOr<std::string> JsonString(simdjson::dom::element element, absl::string_view name) {
  std::string_view value;
  if (element.get_string().get(value)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" must be a string"));
  }
  return std::string(value);
}

absl::StatusOr<bool> JsonBool(simdjson::dom::element element, absl::string_view name) {
  bool value = false;
  if (element.get_bool().get(value)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" must be true or false"));
  }
  return value;
}

absl::StatusOr<int64_t> JsonInt(simdjson::dom::element element, absl::string_view name) {
  int64_t value = 0;
  if (!element.get_int64().get(value)) return value;
  double d = 0;
  if (!element.get_double().get(d) && std::isfinite(d) && std::trunc(d) == d &&
      std::fabs(d) < 9.0e15) {
    return static_cast<int64_t>(d);
  }
  return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" must be an integer"));
}

}  // namespace linechannel::fake_line
