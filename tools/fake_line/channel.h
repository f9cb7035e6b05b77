#ifndef LINECHANNEL_TOOLS_FAKE_LINE_CHANNEL_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_CHANNEL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace linechannel::fake_line {

// A rich menu made with the Messaging API, as the fixture and the control API give it.
struct RichMenu {
  std::string rich_menu_id;  // "richmenu-" + 32 hex at LINE; any non-empty text here.
  std::string name;
  std::string chat_bar_text;
};

// One Messaging API channel as the fake knows it: the fixture's fields, named as in the
// fixture file.
struct Channel {
  std::string channel_id;
  std::string channel_secret;
  std::string access_token;  // The long-lived channel access token.
  std::string bot_user_id;   // "U" + 32 hex; every webhook's `destination`.
  std::string basic_id;      // With the leading "@", as bot info returns it.
  std::string premium_id;    // Empty when the OA has none.
  std::string display_name;
  std::string picture_url;       // Empty: bot info leaves pictureUrl out.
  std::string webhook_endpoint;  // Empty when none is set.
  bool webhook_active = true;    // The console's "Use webhook" switch.
  // LINE Official Account Manager's settings, as bot info reports them: "chat" (the OA's own
  // chat is on) or "bot"; "manual" or "auto" (LINE answers "auto" whenever chat is off).
  std::string chat_mode = "chat";
  std::string mark_as_read_mode = "manual";
  // Rich menus made with the Messaging API, and the default one's id (empty: none).
  std::vector<RichMenu> rich_menus;
  std::string default_rich_menu_id;
};

// OK if `chat_mode` and `mark_as_read_mode` are values LINE uses and fit together (chat "bot"
// always reads automatically); INVALID_ARGUMENT naming the field otherwise.
absl::Status CheckChatMode(absl::string_view chat_mode, absl::string_view mark_as_read_mode);

// OK if the rich menus' ids are non-empty and unique and `default_rich_menu_id` is empty or
// one of them; INVALID_ARGUMENT naming the problem otherwise.
absl::Status CheckRichMenus(const std::vector<RichMenu>& rich_menus,
                            absl::string_view default_rich_menu_id);

// Injected failures for management calls. Zero values mean "off".
struct Faults {
  int fail_status = 0;   // Answer every call with this HTTP status (LINE's error shape).
  int64_t delay_ms = 0;  // Wait this long before answering.
};

// The LINE endpoints the fake counts calls to, by their key in `calls`.
inline constexpr const char* kCallKeys[] = {"token",          "verify",
                                            "bot_info",       "set_endpoint",
                                            "get_endpoint",   "test_endpoint",
                                            "reply",          "push",
                                            "quota",          "quota_consumption",
                                            "profile",        "member_profile",
                                            "content",        "transcoding",
                                            "mark_as_read",   "loading",
                                            "rich_menu_list", "default_rich_menu"};

// Everything the fake holds about a channel, as one copyable snapshot.
struct ChannelState {
  Channel channel;
  bool token_revoked = false;
  Faults faults;
  // Calls per management endpoint (keys from kCallKeys), whatever the answer was.
  std::map<std::string, int64_t> calls;
  int64_t test_endpoint_calls_last_hour = 0;
  int64_t remembered_events = 0;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_CHANNEL_H_
