#ifndef LINECHANNEL_SERVER_BINDING_BINDING_SERVICE_H_
#define LINECHANNEL_SERVER_BINDING_BINDING_SERVICE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/base/call_context.h"
#include "server/base/clock.h"
#include "server/binding/binding_state.h"
#include "server/binding/binding_verifier.h"
#include "server/binding/line_webhook_settings.h"
#include "server/binding/unbind_leftovers.h"
#include "server/binding/webhook_report.h"
#include "server/binding/webhook_setup.h"
#include "server/crypto/random_source.h"
#include "server/crypto/sealing_contexts.h"
#include "server/crypto/secret.h"
#include "server/crypto/secret_sealer.h"
#include "storage/binding_store.h"

namespace linechannel::server {

struct BindRequest {
  std::string team_id;
  std::string app_name;
  std::string channel_id;
  Secret channel_secret;
  Secret access_token;
  // As given; normalized by Bind.
  std::string line_id;
  // Set the binding's URL on LINE too (see LineWebhookSettings::SetUp).
  bool set_webhook_url = false;
  bool overwrite_webhook_url = false;
};

struct BindResult {
  storage::Binding binding;
  // True when the same binding already existed and nothing changed.
  bool already_bound = false;
  WebhookSetup webhook_setup;
};

struct UnbindRequest {
  std::string team_id;
  std::string channel_id;
  // Also remove the binding's URL from LINE, only if LINE still has exactly it.
  bool clear_webhook_url = false;
};

struct UnbindResult {
  storage::Binding binding;
  // The retired URL, what is left on LINE, and what clearing did.
  UnbindReport line;
};

struct CredentialsRequest {
  std::string team_id;
  std::string channel_id;
  // Unset keeps the stored value.
  std::optional<Secret> channel_secret;
  std::optional<Secret> access_token;
};

// The binding lifecycle: the rules of DESIGN.md over a store, LINE and the sealer. Requests
// reach it already validated (request_validation.h). Thread-safe.
//
// Every error carries a reason (errors.h). Besides those listed per method: UNAVAILABLE
// STORAGE_UNAVAILABLE when the store cannot read or commit (nothing changed; retry), and
// DEADLINE_EXCEEDED when the caller's deadline passes.
class BindingService {
 public:
  struct Options {
    // Webhook URLs are `public_base_url` + "/line/webhook/" + key; no trailing slash.
    std::string public_base_url;
    // An unbind's questions to LINE, together, take at most this long.
    absl::Duration line_timeout = absl::Seconds(10);
  };

  BindingService(storage::BindingStore* store, const BindingVerifier* verifier,
                 LineWebhookSettings* checks, const SecretSealer* sealer, RandomSource* random,
                 const Clock* clock, Options options);

  // Proves the values with LINE, then binds. Repeating an existing binding of the team with
  // the same values returns it (already_bound). Errors: the verifier's; ALREADY_EXISTS
  // OA_BOUND_TO_OTHER_TEAM (never naming the team) or OA_BOUND_WITH_OTHER_VALUES (this team
  // holds the OA with other values: UpdateCredentials).
  absl::StatusOr<BindResult> Bind(const BindRequest& request, const CallContext& call);

  // NOT_FOUND BINDING_NOT_FOUND (LINE is not called) if the team has no active binding of the
  // channel. Otherwise first asks LINE, within Options::line_timeout, what the unbind leaves
  // there (and, with clear_webhook_url, removes the binding's URL if LINE still has exactly
  // it), then marks the binding unbound with its audit row. LINE's failures are never errors:
  // the report says "could not ask LINE" and gives the general steps. If the store then cannot
  // commit, a URL just removed is put back on LINE, so nothing is left half done.
  absl::StatusOr<UnbindResult> Unbind(const UnbindRequest& request, const CallContext& call);

  // NOT_FOUND BINDING_NOT_FOUND, the same whether the channel is unbound or another team's.
  absl::StatusOr<storage::Binding> Get(absl::string_view team_id, absl::string_view channel_id);

  // A page of the team's bindings, newest first; only those in `state` if it is given
  // (kUnbound implies include_unbound).
  absl::StatusOr<storage::BindingPage> List(absl::string_view team_id, bool include_unbound,
                                            std::optional<BindingState> state, int64_t after_row_id,
                                            int page_size);

  // Runs every VerifyWebhook check for the team's binding of the channel (NOT_FOUND as Get).
  absl::StatusOr<WebhookReport> VerifyWebhook(absl::string_view team_id,
                                              absl::string_view channel_id,
                                              const CallContext& call);

  // Proves the new values with LINE (the verifier's errors), then replaces them. Giving the
  // values already stored changes nothing and writes no audit row. NOT_FOUND
  // BINDING_NOT_FOUND as for Get.
  absl::StatusOr<storage::Binding> UpdateCredentials(const CredentialsRequest& request,
                                                     const CallContext& call);

  std::string WebhookUrl(const storage::Binding& binding) const;

  // LINE's chat modes as the binding's last kept VerifyWebhook answer found them (see
  // LineWebhookSettings::LastResponseSettings); never asks LINE.
  ResponseSettings LastResponseSettings(const storage::Binding& binding);

  // The audit rows of a binding, oldest first.
  absl::StatusOr<std::vector<storage::AuditRecord>> Audit(const storage::Binding& binding);

  // A page of the audit rows of the team's bindings, active and unbound, newest first: only
  // those of `channel_id` unless it is empty. A channel the team never bound has none (an empty
  // page, not NOT_FOUND: an audit read says nothing about other teams' bindings).
  absl::StatusOr<storage::AuditPage> ListAudit(absl::string_view team_id,
                                               absl::string_view channel_id, int64_t before_id,
                                               int page_size);

 private:
  // Which of the request's values differ from the stored binding's, for people; empty when all
  // are the same.
  absl::StatusOr<std::string> DifferingValues(const storage::Binding& stored,
                                              const BindRequest& request,
                                              const std::string& line_id) const;
  absl::StatusOr<BindResult> AnswerExisting(const storage::Binding& existing,
                                            const BindRequest& request,
                                            const std::string& line_id) const;
  // Sets up (or says how to set up) LINE's webhook settings for a bind's result.
  void SetUpWebhook(const BindRequest& request, const CallContext& call, BindResult& result);

  storage::BindingStore* const store_;
  const BindingVerifier* const verifier_;
  LineWebhookSettings* const checks_;
  const SecretSealer* const sealer_;
  RandomSource* const random_;
  const Clock* const clock_;
  const Options options_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_BINDING_SERVICE_H_
