#ifndef LINECHANNEL_TOOLS_FAKE_LINE_WEBHOOK_SENDER_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_WEBHOOK_SENDER_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "tools/fake_line/http_client.h"

namespace linechannel::fake_line {

// POSTs webhook bodies the way LINE's platform does: HTTP/1.1, `Content-Type: application/json;
// charset=utf-8`, `User-Agent: LineBotWebhook/2.0`, and the `x-line-signature` header. Thread-safe.
class WebhookSender {
 public:
  // `client` must outlive the sender.
  explicit WebhookSender(const HttpClient* client) : client_(client) {}

  // Sends `body` byte for byte to `url`. `signature` is the x-line-signature header's value;
  // nullopt sends no such header (to test servers that must refuse unsigned requests).
  HttpResult Send(absl::string_view url, absl::string_view body,
                  const std::optional<std::string>& signature) const;

 private:
  const HttpClient* const client_;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_WEBHOOK_SENDER_H_
