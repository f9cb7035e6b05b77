#ifndef LINECHANNEL_SERVER_LINE_CURL_LINE_API_H_
#define LINECHANNEL_SERVER_LINE_CURL_LINE_API_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/line/line_api.h"

namespace linechannel::server {

// LineApi over HTTPS with libcurl. Idle curl handles (and so their open connections to LINE)
// are kept for reuse. Thread-safe.
class CurlLineApi : public LineApi {
 public:
  struct Options {
    // "https://api.line.me", or the fake LINE platform's address in tests.
    std::string base_url;
    // Upper bound of one call, however far the caller's deadline is.
    absl::Duration timeout = absl::Seconds(10);
    absl::Duration connect_timeout = absl::Seconds(3);
    // A CA bundle to trust instead of the system's; empty for the system's.
    std::string ca_file;
  };

  explicit CurlLineApi(Options options);
  ~CurlLineApi() override;

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

  // The parts of one HTTP exchange with LINE; public for the helpers in the .cc file.
  struct Request {
    std::string method;
    std::string path;
    // Sent as application/x-www-form-urlencoded when not empty. Values are secrets because
    // they often are (client_secret, access_token).
    std::vector<std::pair<std::string, Secret>> form;
    // Sent as "Authorization: Bearer ..." when set.
    const Secret* bearer = nullptr;
    // Sent as application/json when not empty.
    std::string json;
  };
  struct Response {
    long status = 0;
    std::string body;
    std::string request_id;  // X-Line-Request-Id
    std::string retry_after;
  };

 private:
  absl::StatusOr<Response> Perform(const Request& request, absl::Time deadline);
  void* TakeHandle();
  void ReturnHandle(void* handle);

  const Options options_;
  absl::Mutex mu_;
  std::vector<void*> idle_handles_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_LINE_CURL_LINE_API_H_
