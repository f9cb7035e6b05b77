#ifndef LINECHANNEL_SERVER_BINDING_LINE_WEBHOOK_SETTINGS_H_
#define LINECHANNEL_SERVER_BINDING_LINE_WEBHOOK_SETTINGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/base/clock.h"
#include "server/binding/retired_url.h"
#include "server/binding/unbind_leftovers.h"
#include "server/binding/webhook_report.h"
#include "server/binding/webhook_setup.h"
#include "server/crypto/secret.h"
#include "server/crypto/secret_sealer.h"
#include "server/line/line_api.h"
#include "storage/binding_store.h"
#include "storage/check_store.h"
#include "storage/event_store.h"

namespace linechannel::server {

// Asks LINE whether its webhooks will reach a binding, and says in plain words what to fix
// (DESIGN.md "VerifyWebhook"); also sets LINE's webhook URL at bind time and looks at it after
// an unbind. Thread-safe.
class LineWebhookSettings {
 public:
  struct Options {
    // Test-webhook calls per channel per hour this server allows itself (LINE allows 60; the
    // rest is left for people pressing Verify in LINE Developers).
    int test_calls_per_hour = 50;
  };

  // Reads bindings and records attention reasons in `bindings`; keeps answers and takes test
  // calls in `checks`; reads what the webhook endpoint saw from `events` (which must answer
  // from the database, so that a request another replica received is seen).
  LineWebhookSettings(LineApi* line, storage::BindingStore* bindings, storage::CheckStore* checks,
                      storage::EventStore* events, const SecretSealer* sealer, const Clock* clock,
                      Options options);

  // Every check for `binding` (active), whose webhook URL is `webhook_url`. The signature check
  // passes only when a correctly signed request for the binding reached our endpoint (on any
  // replica: it is read from the store) while LINE's test call ran. Records the
  // findings as the binding's attention reasons. When the test budget is spent, answers with
  // the last full result (from_cache, result_age). Errors only for our own failures (storage,
  // a key that cannot open the token); LINE's failures are findings, not errors.
  absl::StatusOr<WebhookReport> Verify(const storage::Binding& binding,
                                       const std::string& webhook_url, absl::Time deadline);

  // The checks that cost no test call (token, URL, "Use webhook"), recorded as the binding's
  // attention reasons; for the periodic re-check. UNAVAILABLE (nothing recorded) when LINE
  // cannot be asked.
  absl::Status Recheck(const storage::Binding& binding, const std::string& webhook_url,
                       absl::Time deadline);

  // The response settings the last kept Verify answer (the last one with LINE's test
  // delivery) found for `binding`. Reads the store, never LINE. Both modes are unknown when
  // there is no such answer, it cannot be read (an older server's, or one from before chat
  // modes were reported) or the store cannot be read.
  ResponseSettings LastResponseSettings(const storage::Binding& binding);

  // Sets `webhook_url` as the channel's URL on LINE unless LINE has another one and
  // `overwrite` is false; reports what it did and what the user must still do. Never fails:
  // LINE's failures are reported as action kFailed.
  WebhookSetup SetUp(const Secret& access_token, const std::string& webhook_url, bool overwrite,
                     absl::Time deadline);

  // What the user must do when set-up was not asked for.
  static WebhookSetup NotRequested(const std::string& webhook_url);

  // For an unbind, before it is stored: whether LINE still has `retired_url` as the
  // channel's webhook URL, what else is left on LINE (rich menus), and, with
  // `clear_webhook_url`, removes `retired_url` from LINE if (and only if) LINE has exactly it.
  // Never fails: what LINE could not answer is reported in plain words.
  UnbindReport DescribeLeftovers(const Secret& access_token, const std::string& retired_url,
                                 bool clear_webhook_url, absl::Time deadline);

  // Sets `webhook_url` on LINE again: for an unbind that removed it and then could not be
  // stored. LineApi's statuses.
  absl::Status PutBackWebhookUrl(const Secret& access_token, const std::string& webhook_url,
                                 absl::Time deadline);

 private:
  absl::StatusOr<WebhookReport> FromLastRecord(const storage::Binding& binding, absl::Time now);

  LineApi* const line_;
  storage::BindingStore* const bindings_;
  storage::CheckStore* const checks_;
  storage::EventStore* const events_;
  const SecretSealer* const sealer_;
  const Clock* const clock_;
  const Options options_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_LINE_WEBHOOK_SETTINGS_H_
