#include "tools/fake_line/control_replies.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tools/fake_line/json_reader.h"
#include "tools/fake_line/responses.h"

namespace linechannel::fake_line {

HttpResponse ControlError(int status, absl::string_view message) {
  return JsonResponse(status, JsonObject().Set("message", message));
}

HttpResponse ControlStatusError(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return ControlError(404, status.message());
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return ControlError(409, status.message());
    default:
      return ControlError(400, status.message());
  }
}

absl::StatusOr<simdjson::dom::object> ParseControlBody(simdjson::dom::parser& parser,
                                                       const std::string& body) {
  if (absl::StripAsciiWhitespace(body).empty()) return ParseJsonObject(parser, "{}");
  return ParseJsonObject(parser, body);
}

absl::StatusOr<simdjson::dom::element> OnlyField(simdjson::dom::parser& parser,
                                                 const std::string& body, const char* key,
                                                 absl::string_view shape) {
  absl::StatusOr<simdjson::dom::object> object = ParseControlBody(parser, body);
  if (!object.ok()) return object.status();
  simdjson::dom::element element;
  if (object->size() != 1 || object->at_key(key).get(element)) {
    return absl::InvalidArgumentError(absl::StrCat("body must be {\"", key, "\": ", shape, "}"));
  }
  return element;
}

}  // namespace linechannel::fake_line
