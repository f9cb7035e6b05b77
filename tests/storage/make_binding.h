#ifndef LINECHANNEL_TESTS_STORAGE_MAKE_BINDING_H_
#define LINECHANNEL_TESTS_STORAGE_MAKE_BINDING_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "storage/binding.h"
#include "storage/event.h"
#include "storage/push.h"

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

// A message event with webhookEventId `id` (none when empty), from user "Uuser".
inline NewEvent Event(const std::string& id) {
  NewEvent e;
  if (!id.empty()) e.webhook_event_id = id;
  e.type = "message";
  e.timestamp_ms = 1700000000000;
  e.mode = "active";
  e.source_type = "user";
  e.source_user_id = "Uuser";
  e.raw_json = absl::StrCat(R"({"type":"message","webhookEventId":")", id, R"("})");
  return e;
}

// A push of binding `binding_row_id` accepted at `at`, due at once and leased to its admitter
// for 30 seconds: retry key "retry-<request_id>", digest "digest-<request_id>", to "Uto", one
// text message "hello", notifications disabled.
inline PushRecord MakePush(int64_t binding_row_id, const std::string& request_id,
                           absl::Time at = absl::FromUnixSeconds(1'800'000'000)) {
  PushRecord p;
  p.binding_row_id = binding_row_id;
  p.request_id = request_id;
  p.retry_key = "retry-" + request_id;
  p.request_digest = "digest-" + request_id;
  p.to = "Uto";
  p.messages_json = R"([{"type":"text","text":"hello"}])";
  p.notification_disabled = true;
  p.accepted_at = at;
  p.next_attempt_at = at;
  p.lease_until = at + absl::Seconds(30);
  return p;
}

}  // namespace linechannel::storage

#endif  // LINECHANNEL_TESTS_STORAGE_MAKE_BINDING_H_
