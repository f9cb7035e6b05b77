#include "tools/fake_line/fixture.h"

#include <fstream>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tools/fake_line/json_reader.h"
#include "tools/fake_line/rich_menus.h"

namespace linechannel::fake_line {
namespace {

bool ValidChannelId(absl::string_view id) {
  if (id.empty()) return false;
  for (char c : id) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<Channel> ParseChannel(simdjson::dom::object object) {
  Channel channel;
  std::set<std::string> seen;
  for (const auto& [key, value] : object) {
    std::string* target = nullptr;
    if (key == "channel_id") {
      target = &channel.channel_id;
    } else if (key == "channel_secret") {
      target = &channel.channel_secret;
    } else if (key == "access_token") {
      target = &channel.access_token;
    } else if (key == "bot_user_id") {
      target = &channel.bot_user_id;
    } else if (key == "basic_id") {
      target = &channel.basic_id;
    } else if (key == "premium_id") {
      target = &channel.premium_id;
    } else if (key == "display_name") {
      target = &channel.display_name;
    } else if (key == "picture_url") {
      target = &channel.picture_url;
    } else if (key == "webhook_endpoint") {
      target = &channel.webhook_endpoint;
    } else if (key == "chat_mode") {
      target = &channel.chat_mode;
    } else if (key == "mark_as_read_mode") {
      target = &channel.mark_as_read_mode;
    } else if (key == "default_rich_menu_id") {
      target = &channel.default_rich_menu_id;
    } else if (key == "rich_menus") {
      absl::StatusOr<std::vector<RichMenu>> menus = ParseRichMenus(value);
      if (!menus.ok()) return menus.status();
      channel.rich_menus = *std::move(menus);
    } else if (key == "webhook_active") {
      absl::StatusOr<bool> active = JsonBool(value, ToAbsl(key));
      if (!active.ok()) return active.status();
      channel.webhook_active = *active;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown channel field \"", ToAbsl(key), "\""));
    }
    if (target != nullptr) {
      absl::StatusOr<std::string> text = JsonString(value, ToAbsl(key));
      if (!text.ok()) return text.status();
      *target = *std::move(text);
    }
    seen.insert(std::string(key));
  }
  for (const char* required :
       {"channel_id", "channel_secret", "access_token", "bot_user_id", "basic_id"}) {
    if (seen.count(required) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("channel is missing \"", required, "\""));
    }
  }
  if (!ValidChannelId(channel.channel_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel_id \"", channel.channel_id, "\" must match [A-Za-z0-9._-]+"));
  }
  for (const auto& [name, value] :
       {std::pair<const char*, const std::string*>{"channel_secret", &channel.channel_secret},
        {"access_token", &channel.access_token},
        {"bot_user_id", &channel.bot_user_id},
        {"basic_id", &channel.basic_id}}) {
    if (value->empty()) {
      return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" must not be empty"));
    }
  }
  // A fixture that turns chat off means LINE's automatic read, unless it says otherwise.
  if (seen.count("chat_mode") != 0 && seen.count("mark_as_read_mode") == 0 &&
      channel.chat_mode == "bot") {
    channel.mark_as_read_mode = "auto";
  }
  if (absl::Status valid = CheckChatMode(channel.chat_mode, channel.mark_as_read_mode);
      !valid.ok()) {
    return valid;
  }
  if (absl::Status valid = CheckRichMenus(channel.rich_menus, channel.default_rich_menu_id);
      !valid.ok()) {
    return valid;
  }
  return channel;
}

}  // namespace

absl::StatusOr<std::vector<Channel>> ParseChannels(absl::string_view json) {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::object> root = ParseJsonObject(parser, json);
  if (!root.ok()) return root.status();

  std::vector<Channel> channels;
  simdjson::dom::element list;
  if (root->at_key("channels").get(list) == simdjson::SUCCESS) {
    if (root->size() != 1) {
      return absl::InvalidArgumentError("a {\"channels\": [...]} object must have no other field");
    }
    simdjson::dom::array array;
    if (list.get_array().get(array)) {
      return absl::InvalidArgumentError("\"channels\" must be an array");
    }
    for (simdjson::dom::element element : array) {
      simdjson::dom::object object;
      if (element.get_object().get(object)) {
        return absl::InvalidArgumentError("each element of \"channels\" must be an object");
      }
      absl::StatusOr<Channel> channel = ParseChannel(object);
      if (!channel.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("channels[", channels.size(), "]: ", channel.status().message()));
      }
      channels.push_back(*std::move(channel));
    }
  } else {
    absl::StatusOr<Channel> channel = ParseChannel(*root);
    if (!channel.ok()) return channel.status();
    channels.push_back(*std::move(channel));
  }

  std::set<std::string> ids;
  for (const Channel& channel : channels) {
    if (!ids.insert(channel.channel_id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("channel_id \"", channel.channel_id, "\" appears twice"));
    }
  }
  return channels;
}

absl::StatusOr<std::vector<Channel>> LoadFixtureFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read fixture file ", path));
  std::ostringstream contents;
  contents << in.rdbuf();
  absl::StatusOr<std::vector<Channel>> channels = ParseChannels(contents.str());
  if (!channels.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("fixture ", path, ": ", channels.status().message()));
  }
  return channels;
}

}  // namespace linechannel::fake_line
