#ifndef LINECHANNEL_TOOLS_FAKE_LINE_RICH_MENUS_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_RICH_MENUS_H_

#include <simdjson.h>

#include <vector>

#include "absl/status/statusor.h"
#include "tools/fake_line/channel.h"
#include "tools/fake_line/http_message.h"
#include "tools/fake_line/json_writer.h"

namespace linechannel::fake_line {

// The channel's rich menus in the fixture's and the control API's shape:
// [{"rich_menu_id", "name"?, "chat_bar_text"?}]. INVALID_ARGUMENT for anything else (unknown
// fields included); ids are checked with CheckRichMenus.
absl::StatusOr<std::vector<RichMenu>> ParseRichMenus(simdjson::dom::element element);

// The same shape, for the control API's channel state.
JsonArray RichMenusJson(const std::vector<RichMenu>& rich_menus);

// GET /v2/bot/richmenu/list: 200 {richmenus:[{richMenuId, size, selected, name, chatBarText,
// areas}]}, the fields LINE's spec requires (a full-size menu without tappable areas).
HttpResponse RichMenuListResponse(const Channel& channel);

// GET /v2/bot/user/all/richmenu: 200 {richMenuId}, or LINE's 404 {message:"no default
// richmenu"} when none is set.
HttpResponse DefaultRichMenuResponse(const Channel& channel);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_RICH_MENUS_H_
