#ifndef LINECHANNEL_SERVER_LINE_LINE_MESSAGING_API_H_
#define LINECHANNEL_SERVER_LINE_LINE_MESSAGING_API_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/crypto/secret.h"

namespace linechannel::server {

// One message LINE sent for a reply or push.
struct LineSentMessage {
  std::string id;
  // Empty when LINE gave none.
  std::string quote_token;
};

// What LINE answered to an accepted reply or push.
struct LineSendResult {
  std::vector<LineSentMessage> sent_messages;
  // X-Line-Request-Id of this call; for a push LINE had already accepted (409), the
  // x-line-accepted-request-id of the call that was accepted.
  std::string request_id;
  // The push's retry key had already been accepted (LINE's 409): nothing was sent again.
  bool already_accepted = false;
};

struct LineProfile {
  std::string user_id;
  std::string display_name;
  std::string picture_url;
  std::string status_message;
  std::string language;
};

struct LineQuota {
  // False for LINE's `{"type":"none"}` (no monthly limit).
  bool limited = false;
  int64_t limit = 0;
  // LINE's quota consumption (`totalUsage`).
  int64_t used = 0;
};

// The head of a message's content, known before the first byte is handed on.
struct LineContentHead {
  std::string content_type;
  // -1 when LINE gave no Content-Length.
  int64_t size = -1;
};

// The calls this service makes to LINE's Messaging API on behalf of a bound OA (LINE.md,
// ../shared/line/openapi/messaging-api.yml). Implementations are thread-safe; every call gives
// up at `deadline`. `messages_json` is a JSON array of message objects, already checked.
//
// Errors carry a reason (server/base/errors.h) so callers can branch without parsing LINE's
// words; messages name the call, quote LINE's own message and carry its X-Line-Request-Id,
// and never contain a token or message text:
//   UNAUTHENTICATED     TOKEN_REJECTED: LINE rejected the access token (401).
//   INVALID_ARGUMENT    REPLY_TOKEN_INVALID ("Invalid reply token"),
//                       MARK_AS_READ_TOKEN_INVALID, or LINE_REFUSED_REQUEST (any other 400).
//   FAILED_PRECONDITION RECIPIENT_UNAVAILABLE (push: "Failed to send messages"; 400 about `to`),
//                       MONTHLY_QUOTA_EXHAUSTED (429 "You have reached your monthly limit.").
//   NOT_FOUND           PROFILE_NOT_FOUND / CONTENT_NOT_FOUND (404).
//   PERMISSION_DENIED   LINE_REFUSED_REQUEST (403: the OA's plan does not allow the call).
//   RESOURCE_EXHAUSTED  LINE_RATE_LIMITED (any other 429), with a RetryInfo of LINE's
//                       Retry-After (1 s if none). LINE did not accept the call.
//   UNAVAILABLE         LINE_UNAVAILABLE: the request never reached LINE (could not resolve or
//                       connect), so LINE surely did not act on it.
//   DEADLINE_EXCEEDED   `deadline` had passed before anything was sent.
//   UNKNOWN             OUTCOME_UNKNOWN: the request may have reached LINE but no usable answer
//                       came (5xx, timeout or `deadline` after sending began, connection lost,
//                       an answer we cannot parse). LINE may have acted on it.
class LineMessagingApi {
 public:
  virtual ~LineMessagingApi() = default;

  // POST /v2/bot/message/reply.
  virtual absl::StatusOr<LineSendResult> Reply(const Secret& access_token,
                                               const std::string& reply_token,
                                               const std::string& messages_json,
                                               bool notification_disabled, absl::Time deadline) = 0;

  // POST /v2/bot/message/push with header X-Line-Retry-Key: `retry_key` (a UUID). A 409 with
  // x-line-accepted-request-id is a success with `already_accepted`.
  virtual absl::StatusOr<LineSendResult> Push(const Secret& access_token, const std::string& to,
                                              const std::string& messages_json,
                                              bool notification_disabled,
                                              const std::string& retry_key,
                                              absl::Time deadline) = 0;

  // GET /v2/bot/profile/{user_id}, or with a group (`C...`) or room (`R...`) id in
  // `group_or_room_id`, GET /v2/bot/{group|room}/{id}/member/{user_id}.
  virtual absl::StatusOr<LineProfile> GetProfile(const Secret& access_token,
                                                 const std::string& user_id,
                                                 const std::string& group_or_room_id,
                                                 absl::Time deadline) = 0;

  // GET /v2/bot/message/quota and /v2/bot/message/quota/consumption.
  virtual absl::StatusOr<LineQuota> GetQuota(const Secret& access_token, absl::Time deadline) = 0;

  // POST /v2/bot/chat/markAsRead {markAsReadToken}.
  virtual absl::Status MarkAsRead(const Secret& access_token, const std::string& mark_as_read_token,
                                  absl::Time deadline) = 0;

  // POST /v2/bot/chat/loading/start {chatId, loadingSeconds}.
  virtual absl::Status ShowLoadingAnimation(const Secret& access_token, const std::string& chat_id,
                                            int loading_seconds, absl::Time deadline) = 0;

  // Where the bytes go as they arrive: `head` once, before any `chunk`. A sink that returns
  // false stops the download (the call then returns CANCELLED). Called on the calling thread;
  // a sink may block, which slows the download down instead of buffering it.
  struct ContentSink {
    std::function<bool(const LineContentHead& head)> head;
    std::function<bool(absl::string_view chunk)> chunk;
  };

  // GET /v2/bot/message/{message_id}/content on LINE's data host, streamed into `sink` without
  // holding the whole content. FAILED_PRECONDITION CONTENT_NOT_READY (with a RetryInfo of 5 s)
  // when LINE answers 202 (a video or audio still being processed); NOT_FOUND
  // CONTENT_NOT_FOUND for 404. `deadline` bounds the whole download.
  virtual absl::Status GetContent(const Secret& access_token, const std::string& message_id,
                                  const ContentSink& sink, absl::Time deadline) = 0;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_LINE_LINE_MESSAGING_API_H_
