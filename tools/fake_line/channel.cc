#include "tools/fake_line/channel.h"

namespace linechannel::fake_line {

absl::Status CheckChatMode(absl::string_view chat_mode, absl::string_view mark_as_read_mode) {
  if (chat_mode != "chat" && chat_mode != "bot") {
    return absl::InvalidArgumentError("\"chat_mode\" must be \"chat\" or \"bot\"");
  }
  if (mark_as_read_mode != "manual" && mark_as_read_mode != "auto") {
    return absl::InvalidArgumentError("\"mark_as_read_mode\" must be \"manual\" or \"auto\"");
  }
  if (chat_mode == "bot" && mark_as_read_mode != "auto") {
    return absl::InvalidArgumentError(
        "with \"chat_mode\": \"bot\" LINE always reads automatically: "
        "\"mark_as_read_mode\" must be \"auto\"");
  }
  return absl::OkStatus();
}

}  // namespace linechannel::fake_line
