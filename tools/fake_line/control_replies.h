#ifndef LINECHANNEL_TOOLS_FAKE_LINE_CONTROL_REPLIES_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_CONTROL_REPLIES_H_

#include <simdjson.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/fake_line/http_message.h"

namespace linechannel::fake_line {

// Shared pieces of the /fake/ control API's answers and request parsing.

// {"message": `message`} with `status`.
HttpResponse ControlError(int status, absl::string_view message);

// A status as a control answer: NOT_FOUND 404, ALREADY_EXISTS and FAILED_PRECONDITION 409,
// anything else 400.
HttpResponse ControlStatusError(const absl::Status& status);

// Parses a control request's body as a JSON object; an empty body counts as {}.
absl::StatusOr<simdjson::dom::object> ParseControlBody(simdjson::dom::parser& parser,
                                                       const std::string& body);

// The one member `key` of a control body that must be exactly {"key": <value>};
// INVALID_ARGUMENT saying so (with `shape` as the value's description) otherwise.
absl::StatusOr<simdjson::dom::element> OnlyField(simdjson::dom::parser& parser,
                                                 const std::string& body, const char* key,
                                                 absl::string_view shape);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_CONTROL_REPLIES_H_
