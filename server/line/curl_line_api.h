#ifndef LINECHANNEL_SERVER_LINE_CURL_LINE_API_H_
#define LINECHANNEL_SERVER_LINE_CURL_LINE_API_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/line/curl_exchange.h"
#include "server/line/line_api.h"
#include "server/line/line_messaging_api.h"

namespace linechannel::server {

// LineApi and LineMessagingApi over HTTPS with libcurl. Idle curl handles (and so their open
// connections to LINE) are kept for reuse. The management calls are in curl_line_api.cc, the
// messaging calls in curl_line_messaging.cc. Thread-safe.
class CurlLineApi : public LineApi, public LineMessagingApi {
 public:
  struct Options {
    // "https://api.line.me", or the fake LINE platform's address in tests.
    std::string base_url;
    // Upper bound of one call, however far the caller's deadline is (content downloads are
    // bounded by the deadline alone).
    absl::Duration timeout = absl::Seconds(10);
    absl::Duration connect_timeout = absl::Seconds(3);
    // A CA bundle to trust instead of the system's; empty for the system's.
    std::string ca_file;
    // Where message content is fetched: "https://api-data.line.me"; empty for `base_url`
    // (the fake LINE platform serves both).
    std::string data_base_url;
  };

  explicit CurlLineApi(Options options);
  ~CurlLineApi() override;

  // LineApi.
  absl::Status CheckChannelSecret(const std::string& channel_id, const Secret& channel_secret,
                                  absl::Time deadline) override;
  absl::StatusOr<LineTokenInfo> VerifyAccessToken(const Secret& access_token,
                                                  absl::Time deadline) override;
  absl::StatusOr<LineBotInfo> GetBotInfo(const Secret& access_token, absl::Time deadline) override;
  absl::StatusOr<LineWebhookEndpoint> GetWebhookEndpoint(const Secret& access_token,
                                                         absl::Time deadline) override;
  absl::Status SetWebhookEndpoint(const Secret& access_token, const std::string& url,
                                  absl::Time deadline) override;
  absl::StatusOr<LineWebhookTest> TestWebhookEndpoint(const Secret& access_token,
                                                      const std::string& url,
                                                      absl::Time deadline) override;
  absl::StatusOr<std::vector<LineRichMenu>> ListRichMenus(const Secret& access_token,
                                                          absl::Time deadline) override;
  absl::StatusOr<std::string> GetDefaultRichMenuId(const Secret& access_token,
                                                   absl::Time deadline) override;

  // LineMessagingApi.
  absl::StatusOr<LineSendResult> Reply(const Secret& access_token, const std::string& reply_token,
                                       const std::string& messages_json, bool notification_disabled,
                                       absl::Time deadline) override;
  absl::StatusOr<LineSendResult> Push(const Secret& access_token, const std::string& to,
                                      const std::string& messages_json, bool notification_disabled,
                                      const std::string& retry_key, absl::Time deadline) override;
  absl::StatusOr<LineProfile> GetProfile(const Secret& access_token, const std::string& user_id,
                                         const std::string& group_or_room_id,
                                         absl::Time deadline) override;
  absl::StatusOr<LineQuota> GetQuota(const Secret& access_token, absl::Time deadline) override;
  absl::Status MarkAsRead(const Secret& access_token, const std::string& mark_as_read_token,
                          absl::Time deadline) override;
  absl::Status ShowLoadingAnimation(const Secret& access_token, const std::string& chat_id,
                                    int loading_seconds, absl::Time deadline) override;
  absl::Status GetContent(const Secret& access_token, const std::string& message_id,
                          const ContentSink& sink, absl::Time deadline) override;

 private:
  // A management call's exchange (`request.url` is a path on base_url), its failures as
  // LineApi's statuses.
  absl::StatusOr<CurlExchange::Response> Perform(CurlExchange::Request request,
                                                 absl::Time deadline);

  const Options options_;
  CurlExchange exchange_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_LINE_CURL_LINE_API_H_
