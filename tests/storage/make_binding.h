#ifndef LINECHANNEL_TESTS_STORAGE_MAKE_BINDING_H_
#define LINECHANNEL_TESTS_STORAGE_MAKE_BINDING_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "storage/binding.h"

namespace linechannel::storage {

// A binding of `team` and `channel` ready to insert, every field set from the arguments: ids
// "id-<team>-<channel>-<n>", webhook key "key-<team>-<channel>-<n>" (`n` tells apart bindings of
// one OA), LINE id "line<channel>", bot user "U<channel>", values sealed under key "k1", bound
// by "tester" at `at`.
inline Binding MakeBinding(const std::string& team, const std::string& channel, int n = 0,
                           absl::Time at = absl::FromUnixSeconds(1'800'000'000)) {
  Binding b;
  b.binding_id = absl::StrCat("id-", team, "-", channel, "-", n);
  b.team_id = team;
  b.app_name = "App " + channel;
  b.channel_id = channel;
  b.line_id = "line" + channel;
  b.bot_user_id = "U" + channel;
  b.bot_display_name = "Bot " + channel;
  b.webhook_key = absl::StrCat("key-", team, "-", channel, "-", n);
  b.channel_secret = {"k1", std::string("\x01sealed-secret\0x", 16)};
  b.access_token = {"k1", "\x01sealed-token"};
  b.channel_secret_hint = "…cdef";
  b.access_token_hint = "…n123";
  b.verified_with_line = true;
  b.bound_at = at;
  b.bound_by = "tester";
  b.credentials_updated_at = at;
  return b;
}

}  // namespace linechannel::storage

#endif  // LINECHANNEL_TESTS_STORAGE_MAKE_BINDING_H_
