#ifndef LINECHANNEL_SERVER_LINE_LINE_API_H_
#define LINECHANNEL_SERVER_LINE_LINE_API_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/crypto/secret.h"

namespace linechannel::server {

// What LINE's verify call says about a long-lived channel access token.
struct LineTokenInfo {
  // The channel the token belongs to.
  std::string client_id;
  int64_t expires_in_seconds = 0;
  std::string scope;
};

// Bot info's `chatMode`: whether the OA's own chat in LINE Official Account Manager is on.
enum class LineChatMode {
  // LINE did not say (the field was missing or has a value this code does not know).
  kUnknown,
  // "chat": the OA's chat is on, so people can also answer in LINE Official Account Manager.
  kChat,
  // "bot": the OA's chat is off; only the webhook's receiver answers.
  kBot,
};

// Bot info's `markAsReadMode`: who marks a customer's messages as read.
enum class LineMarkAsReadMode {
  // LINE did not say (missing or unknown value).
  kUnknown,
  // "auto": LINE marks them read as they arrive.
  kAuto,
  // "manual": they stay unread until marked with the mark-as-read API.
  kManual,
};

// LINE's bot info for a channel access token.
struct LineBotInfo {
  std::string user_id;
  // As LINE returns them, with the leading "@"; premium_id may be empty.
  std::string basic_id;
  std::string premium_id;
  std::string display_name;
  LineChatMode chat_mode = LineChatMode::kUnknown;
  LineMarkAsReadMode mark_as_read_mode = LineMarkAsReadMode::kUnknown;
};

// The webhook URL LINE has for a channel, and the "Use webhook" switch.
struct LineWebhookEndpoint {
  std::string endpoint;
  bool active = false;
};

// What LINE's test-webhook call reports about one delivery it made.
struct LineWebhookTest {
  bool success = false;
  // When LINE made the request, as LINE wrote it.
  std::string timestamp;
  // The HTTP status our endpoint answered; 0 when there was no answer.
  int status_code = 0;
  // OK, COULD_NOT_CONNECT, REQUEST_TIMEOUT, ERROR_STATUS_CODE or UNCLASSIFIED.
  std::string reason;
  std::string detail;
};

// A rich menu made with the Messaging API, as LINE's rich menu list gives it.
struct LineRichMenu {
  std::string rich_menu_id;
  // For managing it; never shown to users.
  std::string name;
};

// The calls this service makes to LINE's management API (LINE.md). Implementations are
// thread-safe. Every call gives up at `deadline`.
//
// Status conventions shared by every call:
//   UNAUTHENTICATED    LINE rejected the credentials given (bad pair, or an invalid, expired or
//                      revoked token); the message carries LINE's own words.
//   INVALID_ARGUMENT   LINE rejected the request for another reason (400).
//   PERMISSION_DENIED  LINE refused the call for this channel (403).
//   NOT_FOUND          LINE has no such resource (404).
//   RESOURCE_EXHAUSTED LINE's rate limit was hit (429).
//   UNAVAILABLE        LINE could not be reached, answered 5xx or something we cannot parse.
//   DEADLINE_EXCEEDED  `deadline` passed first.
// Messages name the call and carry LINE's X-Line-Request-Id when there was one; they never
// contain a secret or token.
class LineApi {
 public:
  virtual ~LineApi() = default;

  // Proves that `channel_secret` is the secret of `channel_id` by having LINE issue a
  // stateless token (no side effects; the token is thrown away).
  virtual absl::Status CheckChannelSecret(const std::string& channel_id,
                                          const Secret& channel_secret, absl::Time deadline) = 0;

  virtual absl::StatusOr<LineTokenInfo> VerifyAccessToken(const Secret& access_token,
                                                          absl::Time deadline) = 0;

  virtual absl::StatusOr<LineBotInfo> GetBotInfo(const Secret& access_token,
                                                 absl::Time deadline) = 0;

  // NOT_FOUND when no webhook URL is set.
  virtual absl::StatusOr<LineWebhookEndpoint> GetWebhookEndpoint(const Secret& access_token,
                                                                 absl::Time deadline) = 0;

  // INVALID_ARGUMENT when LINE refuses the URL (for example not HTTPS, too long; LINE's
  // rules ask for a valid HTTPS URL, so an empty one, which would remove the URL, is refused).
  virtual absl::Status SetWebhookEndpoint(const Secret& access_token, const std::string& url,
                                          absl::Time deadline) = 0;

  // The channel's rich menus made with the Messaging API (not those made in LINE Official
  // Account Manager, which LINE's API does not list).
  virtual absl::StatusOr<std::vector<LineRichMenu>> ListRichMenus(const Secret& access_token,
                                                                  absl::Time deadline) = 0;

  // The id of the default rich menu set with the Messaging API. NOT_FOUND when none is set.
  virtual absl::StatusOr<std::string> GetDefaultRichMenuId(const Secret& access_token,
                                                           absl::Time deadline) = 0;

  // Has LINE send a Verify request to `url` (empty: the URL LINE has for the channel) and
  // report what happened. LINE allows 60 of these per hour per channel (RESOURCE_EXHAUSTED).
  virtual absl::StatusOr<LineWebhookTest> TestWebhookEndpoint(const Secret& access_token,
                                                              const std::string& url,
                                                              absl::Time deadline) = 0;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_LINE_LINE_API_H_
