#ifndef LINECHANNEL_CLIENT_AUDIT_COMMAND_H_
#define LINECHANNEL_CLIENT_AUDIT_COMMAND_H_

#include <string>

#include "client/channel_client.h"

namespace linechannel::client {

// channelctl audit: who bound, unbound or replaced the credentials of a team's bindings, and
// when (ListAuditEntries), newest first. One page at a time, with a "more: --page_token=..."
// line when another follows; --all (defined in audit_command.cc) reads every page. With --json
// the response as JSON (with --all: one response holding every entry). Returns the exit status:
// 0 success, 1 the server refused or failed, 2 bad usage.

// What the command takes from channelctl's common flags.
struct AuditCommandContext {
  ChannelClient* client = nullptr;
  bool json = false;
  std::string team;
  // Empty for all the team's bindings.
  std::string channel_id;
  int page_size = 0;
  std::string page_token;
};

int RunAuditCommand(const AuditCommandContext& context);

}  // namespace linechannel::client

#endif  // LINECHANNEL_CLIENT_AUDIT_COMMAND_H_
