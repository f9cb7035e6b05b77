#ifndef LINECHANNEL_TOOLS_FAKE_LINE_LOOKUP_API_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_LOOKUP_API_H_

#include <optional>
#include <string>

#include "tools/fake_line/bot_gate.h"
#include "tools/fake_line/channel.h"
#include "tools/fake_line/clock.h"
#include "tools/fake_line/http_message.h"
#include "tools/fake_line/messaging_stores.h"

namespace linechannel::fake_line {

// LINE's reading calls for what customers are and sent (call keys in brackets):
//   GET /v2/bot/profile/{userId}                      [profile]
//   GET /v2/bot/group/{groupId}/member/{userId}       [member_profile]
//   GET /v2/bot/room/{roomId}/member/{userId}         [member_profile]
//   GET /v2/bot/message/{messageId}/content           [content] (api-data.line.me at LINE)
//   GET /v2/bot/message/{messageId}/content/transcoding  [transcoding]
// Profiles exist for users the channel's webhooks carried (404 {"message":"Not found"} for
// others, and for a user who blocked the OA); member profiles need the user in that group or
// room. Content exists for the image, video, audio and file messages of those webhooks: 200
// with the bytes streamed in pieces (see content_bytes.h), 202 while a video or audio is still
// processing, 404 when unknown or failed. Each call passes the BotGate. Thread-safe.
class LookupApi {
 public:
  // Pointers must outlive the object.
  LookupApi(const BotGate* gate, MessagingStores stores, const FakeClock* clock)
      : gate_(gate), stores_(stores), clock_(clock) {}

  // The answer, or nullopt if the path is none of the above.
  std::optional<HttpResponse> Handle(const HttpRequest& request) const;

 private:
  HttpResponse Profile(const ChannelState& state, const std::string& user_id) const;
  HttpResponse MemberProfile(const ChannelState& state, const std::string& chat_id,
                             const std::string& user_id) const;
  HttpResponse Content(const ChannelState& state, const std::string& message_id) const;
  HttpResponse Transcoding(const ChannelState& state, const std::string& message_id) const;

  const BotGate* const gate_;
  const MessagingStores stores_;
  const FakeClock* const clock_;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_LOOKUP_API_H_
