#ifndef LINECHANNEL_SERVER_BINDING_WEBHOOK_REPORT_H_
#define LINECHANNEL_SERVER_BINDING_WEBHOOK_REPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "server/line/line_api.h"

namespace linechannel::server {

// One thing VerifyWebhook checks.
enum class CheckKind {
  // The stored access token still works (LINE's verify).
  kAccessTokenValid,
  // LINE's webhook URL for the channel is this binding's URL.
  kWebhookUrlMatches,
  // "Use webhook" is on in LINE Developers.
  kWebhookEnabled,
  // LINE's test-webhook call to the binding's URL got 200 (LINE's word: whoever answered).
  kLineTestDelivered,
  // Our endpoint (any replica) stored a correctly signed request for the binding while LINE's
  // test call ran: the URL leads to channeld and the stored secret is the one LINE signs with.
  kSignatureVerified,
  // What the endpoint has seen lately: the last correctly signed request and bad signature.
  kRecentTraffic,
  // LINE's response settings (bot info's chat mode): Plan A (the OA's chat off, replies only
  // from our product) or Plan B (chat on too, with manual steps LINE's API cannot check).
  kResponseSettings,
};

enum class CheckResult {
  kPass,
  kFail,
  // Not run, because an earlier check failed or LINE could not be asked; the summary says which.
  kSkipped,
  // Passed, but with something worth knowing (for example: old bad signatures seen).
  kWarning,
};

enum class Verdict {
  // LINE's webhooks reach the binding and verify.
  kOk,
  // Something is wrong that a person must fix; the failed checks say what.
  kActionNeeded,
  // LINE could not be asked (unreachable or rate-limited); try again later.
  kLineUnavailable,
};

// One check's finding, in the customer's words.
struct WebhookCheck {
  CheckKind kind = CheckKind::kAccessTokenValid;
  CheckResult result = CheckResult::kSkipped;
  // What was found, in one plain sentence.
  std::string summary;
  // The facts behind it, for example LINE's status code, reason and detail.
  std::string evidence;
  // What a person should do next; empty when nothing is needed.
  std::string next_step;
};

// LINE's response settings for a binding (bot info's chat modes), as a check found them.
struct ResponseSettings {
  LineChatMode chat_mode = LineChatMode::kUnknown;
  LineMarkAsReadMode mark_as_read_mode = LineMarkAsReadMode::kUnknown;
};

// VerifyWebhook's answer: whether LINE's webhooks will reach a binding, and what to fix.
struct WebhookReport {
  Verdict verdict = Verdict::kOk;
  // One plain sentence that sums up the checks.
  std::string summary;
  std::vector<WebhookCheck> checks;
  // When the checks that asked LINE ran.
  absl::Time checked_at;
  // True when LINE's test budget did not allow a new test and this repeats the last full
  // answer, `result_age` old.
  bool from_cache = false;
  absl::Duration result_age;
  // What the webhook endpoint saw for the binding; unset if never.
  std::optional<absl::Time> last_signed_request;
  std::optional<absl::Time> last_bad_signature;
  // What LINE's bot info said when the checks ran; kUnknown when LINE could not be asked.
  LineChatMode chat_mode = LineChatMode::kUnknown;
  LineMarkAsReadMode mark_as_read_mode = LineMarkAsReadMode::kUnknown;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_WEBHOOK_REPORT_H_
