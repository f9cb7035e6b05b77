#ifndef LINECHANNEL_TOOLS_FAKE_LINE_FIXTURE_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_FIXTURE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/fake_line/channel.h"

namespace linechannel::fake_line {

// Parses channels from JSON text: either `{"channels": [<channel>, ...]}` or one bare
// <channel> object. A channel object has the string fields channel_id, channel_secret,
// access_token, bot_user_id and basic_id (all required, non-empty), premium_id, display_name,
// picture_url and webhook_endpoint (optional), the bool webhook_active (default true), and
// chat_mode ("chat" or "bot", default "chat") and mark_as_read_mode ("manual" or "auto";
// default "manual", or "auto" when chat_mode is "bot"; "bot" with "manual" is refused).
// INVALID_ARGUMENT, naming the field, for bad JSON, a missing or ill-typed field, an unknown
// field (to catch typos), a channel_id with characters other than [A-Za-z0-9._-], or the same
// channel_id twice.
absl::StatusOr<std::vector<Channel>> ParseChannels(absl::string_view json);

// Reads and parses a fixture file (same format). NOT_FOUND if it cannot be read.
absl::StatusOr<std::vector<Channel>> LoadFixtureFile(const std::string& path);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_FIXTURE_H_
