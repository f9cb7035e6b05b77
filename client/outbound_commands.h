#ifndef LINECHANNEL_CLIENT_OUTBOUND_COMMANDS_H_
#define LINECHANNEL_CLIENT_OUTBOUND_COMMANDS_H_

#include <string>
#include <vector>

#include "client/channel_client.h"

namespace linechannel::client {

// channelctl's commands that answer customers through a bound OA (ChannelService's outbound
// RPCs): reply, push, push-status, profile, content, quota, mark-read, loading. Each reads its
// own flags (defined in outbound_commands.cc), prints the result like the other commands (text,
// or JSON with --json), and returns the exit status: 0 success, 1 the server refused or failed
// (or a download could not be written), 2 bad usage.

// What the commands take from channelctl's common flags.
struct CommandContext {
  ChannelClient* client = nullptr;
  bool json = false;
  std::string team;
  std::string channel_id;
  // Every --text, in order (taken out of argv before flag parsing, since the flag repeats).
  std::vector<std::string> texts;
};

// Whether `command` is one of the commands below.
bool IsOutboundCommand(const std::string& command);
// Runs one of them (a usage error, exit 2, for any other command).
int RunOutboundCommand(const std::string& command, const CommandContext& context);

}  // namespace linechannel::client

#endif  // LINECHANNEL_CLIENT_OUTBOUND_COMMANDS_H_
