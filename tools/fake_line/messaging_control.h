#ifndef LINECHANNEL_TOOLS_FAKE_LINE_MESSAGING_CONTROL_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_MESSAGING_CONTROL_H_

#include <optional>
#include <string>
#include <vector>

#include "tools/fake_line/channel_registry.h"
#include "tools/fake_line/http_message.h"
#include "tools/fake_line/messaging_stores.h"

namespace linechannel::fake_line {

// The control calls behind LINE's outbound API (see README.md for every body):
//   GET    /fake/channels/{id}/sent                      accepted reply/push/markAsRead/loading
//   GET    /fake/channels/{id}/messaging                 settings and this month's usage
//   PATCH  /fake/channels/{id}/messaging                 quota, rate, token lifetime, processing
//   POST   /fake/channels/{id}/users                     invent users
//   PATCH  /fake/channels/{id}/users/{userId}            {blocked}
//   GET    /fake/channels/{id}/faults                    scripted faults still queued
//   POST   /fake/channels/{id}/faults                    queue a fault for the next N calls
//   DELETE /fake/channels/{id}/faults                    drop them all
//   GET    /fake/channels/{id}/content/{messageId}       a content's size, type and status
//   PATCH  /fake/channels/{id}/content/{messageId}       {status?, size?}
//   POST   /fake/faults/release                          {wait_for?}: end every held call now
// Unknown channel: 404. Bad requests: 400 {"message"}. Thread-safe.
class MessagingControl {
 public:
  // Pointers must outlive the object.
  MessagingControl(const ChannelRegistry* registry, MessagingStores stores, const FakeClock* clock)
      : registry_(registry), stores_(stores), clock_(clock) {}

  // The answer for a control request whose path split at '/' is `parts` ("fake", ...), or
  // nullopt if it is none of the above.
  std::optional<HttpResponse> Handle(const HttpRequest& request,
                                     const std::vector<std::string>& parts) const;

 private:
  HttpResponse Release(const HttpRequest& request) const;
  HttpResponse Sent(const std::string& channel_id) const;
  HttpResponse Settings(const std::string& channel_id) const;
  HttpResponse PatchSettings(const std::string& channel_id, const HttpRequest& request) const;
  HttpResponse AddUsers(const std::string& channel_id, const HttpRequest& request) const;
  HttpResponse PatchUser(const std::string& channel_id, const std::string& user_id,
                         const HttpRequest& request) const;
  HttpResponse ListFaults(const std::string& channel_id) const;
  HttpResponse AddFault(const std::string& channel_id, const HttpRequest& request) const;
  HttpResponse GetContent(const std::string& channel_id, const std::string& message_id) const;
  HttpResponse PatchContent(const std::string& channel_id, const std::string& message_id,
                            const HttpRequest& request) const;

  const ChannelRegistry* const registry_;
  const MessagingStores stores_;
  const FakeClock* const clock_;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_MESSAGING_CONTROL_H_
