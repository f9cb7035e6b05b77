#include "tools/fake_line/webhook_sender.h"

namespace linechannel::fake_line {

HttpResult WebhookSender::Send(absl::string_view url, absl::string_view body,
                               const std::optional<std::string>& signature) const {
  HttpClient::Headers headers = {
      {"Content-Type", "application/json; charset=utf-8"},
      {"User-Agent", "LineBotWebhook/2.0"},
  };
  // Lower case, as LINE sends it; receivers must match the name case-insensitively anyway.
  if (signature.has_value()) headers.emplace_back("x-line-signature", *signature);
  return client_->Post(url, headers, body);
}

}  // namespace linechannel::fake_line
