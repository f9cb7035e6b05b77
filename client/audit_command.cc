#include "client/audit_command.h"

#include <iostream>
#include <utility>

#include "absl/flags/flag.h"
#include "client/command_line.h"
#include "client/output.h"

ABSL_FLAG(bool, all, false, "audit: read every page, not only the first (or --page_token's).");

namespace linechannel::client {

int RunAuditCommand(const AuditCommandContext& context) {
  if (context.team.empty()) return UsageError("audit needs --team");
  if (context.page_size < 0) return UsageError("--page_size must be 1 to 1000 (0 for 100)");
  v1::ListAuditEntriesRequest request;
  request.set_team_id(context.team);
  request.set_channel_id(context.channel_id);
  request.set_page_size(context.page_size);
  request.set_page_token(context.page_token);
  const bool all = absl::GetFlag(FLAGS_all);
  absl::StatusOr<v1::ListAuditEntriesResponse> page =
      context.client->Call(&v1::ChannelService::Stub::ListAuditEntries, request);
  if (all) {
    // Every page into one answer, so that --json prints one document and the table one header.
    v1::ListAuditEntriesResponse everything;
    while (page.ok()) {
      everything.mutable_entries()->MergeFrom(page->entries());
      if (page->next_page_token().empty()) break;
      request.set_page_token(page->next_page_token());
      page = context.client->Call(&v1::ChannelService::Stub::ListAuditEntries, request);
    }
    if (page.ok()) page = std::move(everything);
  }
  return ReportResult(page, context.json, [](const v1::ListAuditEntriesResponse& response) {
    std::cout << FormatAuditTable(response);
    if (!response.next_page_token().empty()) {
      std::cout << "more: --page_token=" << response.next_page_token() << " (or --all)\n";
    }
  });
}

}  // namespace linechannel::client
