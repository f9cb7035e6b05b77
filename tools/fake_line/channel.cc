#include "tools/fake_line/channel.h"

#include <set>

#include "absl/strings/str_cat.h"

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

absl::Status CheckRichMenus(const std::vector<RichMenu>& rich_menus,
                            absl::string_view default_rich_menu_id) {
  std::set<std::string> ids;
  for (const RichMenu& menu : rich_menus) {
    if (menu.rich_menu_id.empty()) {
      return absl::InvalidArgumentError("every rich menu needs a \"rich_menu_id\"");
    }
    if (!ids.insert(menu.rich_menu_id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("rich menu \"", menu.rich_menu_id, "\" appears twice"));
    }
  }
  if (!default_rich_menu_id.empty() && ids.count(std::string(default_rich_menu_id)) == 0) {
    return absl::InvalidArgumentError(absl::StrCat("\"default_rich_menu_id\" \"",
                                                   default_rich_menu_id,
                                                   "\" is not one of the channel's rich_menus"));
  }
  return absl::OkStatus();
}

}  // namespace linechannel::fake_line
