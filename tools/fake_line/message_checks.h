#ifndef LINECHANNEL_TOOLS_FAKE_LINE_MESSAGE_CHECKS_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_MESSAGE_CHECKS_H_

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace linechannel::fake_line {

// One problem with a request body, in the parts of LINE's 400 answer: {"message": "The request
// body has 1 error(s)", "details": [{"message": detail, "property": property}]}.
struct BodyProblem {
  std::string detail;
  std::string property;
};

// Checks `messages` of a reply or push as LINE does: an array of 1..5 objects whose `type` is
// one LINE knows, with the fields that type requires; a text at most 5,000 characters (UTF-16
// code units, as LINE counts) and not empty. The first problem found, or nullopt.
std::optional<BodyProblem> CheckMessages(simdjson::dom::element messages);

// True if `id` is a user, group or room id: "U", "C" or "R", then 32 lower-case hex digits.
bool IsChatId(absl::string_view id);

// True if `key` is a UUID in hex form (8-4-4-4-12), as X-Line-Retry-Key must be.
bool IsRetryKey(absl::string_view key);

// Length of UTF-8 `text` in UTF-16 code units (a character above U+FFFF counts twice).
int64_t Utf16Length(absl::string_view text);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_MESSAGE_CHECKS_H_
