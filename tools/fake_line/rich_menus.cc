#include "tools/fake_line/rich_menus.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "tools/fake_line/json_reader.h"
#include "tools/fake_line/responses.h"

namespace linechannel::fake_line {

absl::StatusOr<std::vector<RichMenu>> ParseRichMenus(simdjson::dom::element element) {
  simdjson::dom::array array;
  if (element.get_array().get(array)) {
    return absl::InvalidArgumentError("\"rich_menus\" must be an array");
  }
  std::vector<RichMenu> menus;
  for (simdjson::dom::element item : array) {
    simdjson::dom::object object;
    if (item.get_object().get(object)) {
      return absl::InvalidArgumentError("each element of \"rich_menus\" must be an object");
    }
    RichMenu menu;
    for (const auto& [raw_key, value] : object) {
      const absl::string_view key = ToAbsl(raw_key);
      std::string* target = nullptr;
      if (key == "rich_menu_id") target = &menu.rich_menu_id;
      if (key == "name") target = &menu.name;
      if (key == "chat_bar_text") target = &menu.chat_bar_text;
      if (target == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("unknown rich menu field \"", key, "\""));
      }
      absl::StatusOr<std::string> text = JsonString(value, key);
      if (!text.ok()) return text.status();
      *target = *std::move(text);
    }
    menus.push_back(std::move(menu));
  }
  return menus;
}

JsonArray RichMenusJson(const std::vector<RichMenu>& rich_menus) {
  JsonArray array;
  for (const RichMenu& menu : rich_menus) {
    array.Add(JsonObject()
                  .Set("rich_menu_id", menu.rich_menu_id)
                  .Set("name", menu.name)
                  .Set("chat_bar_text", menu.chat_bar_text));
  }
  return array;
}

HttpResponse RichMenuListResponse(const Channel& channel) {
  JsonArray menus;
  for (const RichMenu& menu : channel.rich_menus) {
    menus.Add(JsonObject()
                  .Set("richMenuId", menu.rich_menu_id)
                  .Set("size", JsonObject().Set("width", 2500).Set("height", 1686))
                  .Set("selected", false)
                  .Set("name", menu.name)
                  .Set("chatBarText", menu.chat_bar_text)
                  .Set("areas", JsonArray()));
  }
  return JsonResponse(200, JsonObject().Set("richmenus", menus));
}

HttpResponse DefaultRichMenuResponse(const Channel& channel) {
  if (channel.default_rich_menu_id.empty()) return BotError(404, "no default richmenu");
  return JsonResponse(200, JsonObject().Set("richMenuId", channel.default_rich_menu_id));
}

}  // namespace linechannel::fake_line
