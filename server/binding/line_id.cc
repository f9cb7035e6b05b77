#include "server/binding/line_id.h"

#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"

namespace linechannel::server {

std::string NormalizeLineId(absl::string_view line_id) {
  absl::ConsumePrefix(&line_id, "@");
  return absl::AsciiStrToLower(line_id);
}

}  // namespace linechannel::server
