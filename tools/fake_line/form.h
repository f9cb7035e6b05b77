#ifndef LINECHANNEL_TOOLS_FAKE_LINE_FORM_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_FORM_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linechannel::fake_line {

// Decodes an application/x-www-form-urlencoded body ("a=1&b=x%2By+z"): '+' is a space, %XX a
// byte. A later duplicate key wins; a pair without '=' has an empty value. INVALID_ARGUMENT for a
// malformed %-escape.
absl::StatusOr<std::map<std::string, std::string>> ParseForm(absl::string_view body);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_FORM_H_
