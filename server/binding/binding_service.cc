#include "server/binding/binding_service.h"

#include <algorithm>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/base/errors.h"
#include "server/binding/binding_health.h"
#include "server/binding/line_id.h"

namespace linechannel::server {
namespace {

// 24 random bytes: 192 bits, 32 URL-safe characters.
constexpr size_t kWebhookKeyBytes = 24;
constexpr size_t kBindingIdBytes = 10;

absl::Status NotFound() {
  return ReasonedError(absl::StatusCode::kNotFound, reason::kBindingNotFound,
                       "this team has no active binding of that channel");
}

// Store errors carry no reason; NOT_FOUND from the store is the caller's "no such binding".
absl::Status FromStore(const absl::Status& status) {
  if (absl::IsNotFound(status)) return NotFound();
  return WithReason(status);
}

}  // namespace

BindingService::BindingService(storage::BindingStore* store, const BindingVerifier* verifier,
                               LineWebhookSettings* checks, const SecretSealer* sealer,
                               RandomSource* random, const Clock* clock, Options options)
    : store_(store),
      verifier_(verifier),
      checks_(checks),
      sealer_(sealer),
      random_(random),
      clock_(clock),
      options_(std::move(options)) {}

ResponseSettings BindingService::LastResponseSettings(const storage::Binding& binding) {
  return checks_->LastResponseSettings(binding);
}

std::string BindingService::WebhookUrl(const storage::Binding& binding) const {
  return absl::StrCat(options_.public_base_url, "/line/webhook/", binding.webhook_key);
}

absl::StatusOr<std::string> BindingService::DifferingValues(const storage::Binding& stored,
                                                            const BindRequest& request,
                                                            const std::string& line_id) const {
  std::vector<std::string> differing;
  if (stored.app_name != request.app_name) differing.push_back("App Name");
  if (stored.line_id != line_id) differing.push_back("LINE ID");
  absl::StatusOr<Secret> secret =
      sealer_->Unseal(stored.channel_secret, SecretContext(stored.channel_id));
  if (!secret.ok()) return WithReason(secret.status());
  if (!secret->Equals(request.channel_secret)) differing.push_back("channel secret");
  absl::StatusOr<Secret> token =
      sealer_->Unseal(stored.access_token, TokenContext(stored.channel_id));
  if (!token.ok()) return WithReason(token.status());
  if (!token->Equals(request.access_token)) differing.push_back("access token");
  return absl::StrJoin(differing, ", ");
}

absl::StatusOr<BindResult> BindingService::AnswerExisting(const storage::Binding& existing,
                                                          const BindRequest& request,
                                                          const std::string& line_id) const {
  if (existing.team_id != request.team_id) {
    return ReasonedError(
        absl::StatusCode::kAlreadyExists, reason::kOaBoundToOtherTeam,
        "This LINE Official Account is already bound to another team. Unbind it in that team "
        "first, then bind it here.");
  }
  absl::StatusOr<std::string> differing = DifferingValues(existing, request, line_id);
  if (!differing.ok()) return differing.status();
  if (differing->empty() && existing.channel_id == request.channel_id) {
    return BindResult{existing, /*already_bound=*/true};
  }
  return ReasonedError(
      absl::StatusCode::kAlreadyExists, reason::kOaBoundWithOtherValues,
      absl::StrCat("This team already has this LINE Official Account bound (channel ",
                   existing.channel_id, ")",
                   differing->empty() ? "" : absl::StrCat(" with a different ", *differing),
                   ". To store a reissued secret or token use UpdateCredentials; to change "
                   "anything else unbind it first."),
      {{"channel_id", existing.channel_id}});
}

absl::StatusOr<BindResult> BindingService::Bind(const BindRequest& request,
                                                const CallContext& call) {
  const std::string line_id = NormalizeLineId(request.line_id);

  // A repeat of this team's own binding needs no trip to LINE. Another team's binding is
  // only revealed after LINE has proved the caller holds the OA's credentials. Not from a
  // cache: another replica may have unbound it a moment ago, and "already bound" would then
  // tell the caller it holds an OA it does not.
  absl::StatusOr<storage::Binding> own = store_->FindActiveNow(request.team_id, request.channel_id);
  if (own.ok()) {
    absl::StatusOr<BindResult> repeat = AnswerExisting(*own, request, line_id);
    if (repeat.ok()) SetUpWebhook(request, call, *repeat);
    return repeat;
  }
  if (!absl::IsNotFound(own.status())) return FromStore(own.status());

  absl::StatusOr<ProvenOa> proven = verifier_->ProveNew(
      request.channel_id, request.channel_secret, request.access_token, line_id, call.deadline);
  if (!proven.ok()) return proven.status();

  const absl::Time now = clock_->Now();
  storage::Binding binding;
  binding.binding_id = absl::BytesToHexString(random_->Bytes(kBindingIdBytes));
  binding.team_id = request.team_id;
  binding.app_name = request.app_name;
  binding.channel_id = request.channel_id;
  binding.line_id = line_id;
  binding.bot_user_id = proven->bot_user_id;
  binding.bot_display_name = proven->display_name;
  binding.webhook_key = absl::WebSafeBase64Escape(random_->Bytes(kWebhookKeyBytes));
  absl::StatusOr<storage::SealedValue> secret =
      sealer_->Seal(request.channel_secret, SecretContext(request.channel_id));
  if (!secret.ok()) return WithReason(secret.status());
  absl::StatusOr<storage::SealedValue> token =
      sealer_->Seal(request.access_token, TokenContext(request.channel_id));
  if (!token.ok()) return WithReason(token.status());
  binding.channel_secret = *std::move(secret);
  binding.access_token = *std::move(token);
  binding.channel_secret_hint = request.channel_secret.Hint();
  binding.access_token_hint = request.access_token.Hint();
  binding.verified_with_line = proven->verified;
  binding.bound_at = now;
  binding.bound_by = call.actor;
  binding.credentials_updated_at = now;

  storage::Binding conflict;
  absl::StatusOr<storage::Binding> stored = store_->InsertActive(
      binding,
      {call.actor, now, proven->verified ? "verified with LINE" : "not verified with LINE"},
      &conflict);
  absl::StatusOr<BindResult> result;
  if (stored.ok()) {
    result = BindResult{*std::move(stored), /*already_bound=*/false, {}};
  } else if (absl::IsAlreadyExists(stored.status()) && conflict.row_id != 0) {
    // Another bind of this OA won the race (or the OA was bound all along by another team).
    result = AnswerExisting(conflict, request, line_id);
  } else {
    result = FromStore(stored.status());
  }
  if (result.ok()) SetUpWebhook(request, call, *result);
  return result;
}

void BindingService::SetUpWebhook(const BindRequest& request, const CallContext& call,
                                  BindResult& result) {
  const std::string url = WebhookUrl(result.binding);
  if (!request.set_webhook_url) {
    result.webhook_setup = LineWebhookSettings::NotRequested(url);
    return;
  }
  if (verifier_->checks() == LineChecks::kOff) {
    result.webhook_setup = LineWebhookSettings::NotRequested(url);
    result.webhook_setup.action = WebhookSetup::Action::kFailed;
    result.webhook_setup.detail = "LINE checks are off on this server, so LINE is not called";
    return;
  }
  result.webhook_setup =
      checks_->SetUp(request.access_token, url, request.overwrite_webhook_url, call.deadline);
}

absl::StatusOr<UnbindResult> BindingService::Unbind(const UnbindRequest& request,
                                                    const CallContext& call) {
  absl::StatusOr<storage::Binding> active = Get(request.team_id, request.channel_id);
  if (!active.ok()) return active.status();
  const std::string url = WebhookUrl(*active);
  // LINE is asked before the store changes, so that the audit row can say what clearing did;
  // all of LINE's answers together get one --line_timeout, and the unbind goes ahead whatever
  // LINE answers.
  const auto line_deadline = [&] {
    return std::min(call.deadline, absl::Now() + options_.line_timeout);
  };
  absl::StatusOr<Secret> token =
      sealer_->Unseal(active->access_token, TokenContext(active->channel_id));
  UnbindReport report;
  if (verifier_->checks() == LineChecks::kOff) {
    report = CouldNotAskLine(url, request.clear_webhook_url,
                             "LINE checks are off on this server, so LINE is not called");
  } else if (!token.ok()) {
    report =
        CouldNotAskLine(url, request.clear_webhook_url, "the stored access token cannot be opened");
  } else {
    report = checks_->DescribeLeftovers(*token, url, request.clear_webhook_url, line_deadline());
  }

  absl::StatusOr<storage::Binding> unbound =
      store_->MarkUnbound(request.team_id, request.channel_id,
                          {call.actor, clock_->Now(), ClearAuditDetail(report.webhook_url_clear)});
  if (!unbound.ok()) {
    // NOT_FOUND: another unbind won the race, and the URL it retired stays removed.
    if (report.webhook_url_clear.outcome == WebhookUrlClear::Outcome::kCleared &&
        !absl::IsNotFound(unbound.status())) {
      checks_->PutBackWebhookUrl(*token, url, line_deadline()).IgnoreError();
    }
    return FromStore(unbound.status());
  }
  return UnbindResult{*std::move(unbound), std::move(report)};
}

absl::StatusOr<WebhookReport> BindingService::VerifyWebhook(absl::string_view team_id,
                                                            absl::string_view channel_id,
                                                            const CallContext& call) {
  absl::StatusOr<storage::Binding> binding = Get(team_id, channel_id);
  if (!binding.ok()) return binding.status();
  return checks_->Verify(*binding, WebhookUrl(*binding), call.deadline);
}

absl::StatusOr<storage::Binding> BindingService::Get(absl::string_view team_id,
                                                     absl::string_view channel_id) {
  absl::StatusOr<storage::Binding> binding = store_->FindActive(team_id, channel_id);
  if (!binding.ok()) return FromStore(binding.status());
  return binding;
}

absl::StatusOr<storage::BindingPage> BindingService::List(absl::string_view team_id,
                                                          bool include_unbound,
                                                          std::optional<BindingState> state,
                                                          int64_t after_row_id, int page_size) {
  if (!state) {
    absl::StatusOr<storage::BindingPage> page =
        store_->ListTeam(team_id, include_unbound, after_row_id, page_size);
    if (!page.ok()) return FromStore(page.status());
    return page;
  }
  // The state depends on more than stored columns (webhook activity), so the filter runs
  // here, reading ahead until the page is full or the team's bindings run out.
  const bool with_unbound = include_unbound || *state == BindingState::kUnbound;
  storage::BindingPage result;
  int64_t after = after_row_id;
  while (true) {
    absl::StatusOr<storage::BindingPage> page =
        store_->ListTeam(team_id, with_unbound, after, page_size);
    if (!page.ok()) return FromStore(page.status());
    for (size_t i = 0; i < page->bindings.size(); ++i) {
      storage::Binding& binding = page->bindings[i];
      if (HealthOf(binding).state == *state) result.bindings.push_back(std::move(binding));
      if (static_cast<int>(result.bindings.size()) == page_size) {
        const bool more = i + 1 < page->bindings.size() || page->next_after_row_id != 0;
        result.next_after_row_id = more ? result.bindings.back().row_id : 0;
        return result;
      }
    }
    if (page->next_after_row_id == 0) return result;
    after = page->next_after_row_id;
  }
}

absl::StatusOr<storage::Binding> BindingService::UpdateCredentials(
    const CredentialsRequest& request, const CallContext& call) {
  absl::StatusOr<storage::Binding> binding = Get(request.team_id, request.channel_id);
  if (!binding.ok()) return binding.status();

  // Values equal to the stored ones need neither LINE nor a write.
  std::optional<Secret> new_secret = request.channel_secret;
  std::optional<Secret> new_token = request.access_token;
  if (new_secret) {
    absl::StatusOr<Secret> stored =
        sealer_->Unseal(binding->channel_secret, SecretContext(binding->channel_id));
    if (!stored.ok()) return WithReason(stored.status());
    if (stored->Equals(*new_secret)) new_secret.reset();
  }
  if (new_token) {
    absl::StatusOr<Secret> stored =
        sealer_->Unseal(binding->access_token, TokenContext(binding->channel_id));
    if (!stored.ok()) return WithReason(stored.status());
    if (stored->Equals(*new_token)) new_token.reset();
  }
  if (!new_secret && !new_token) return binding;

  storage::CredentialUpdate update;
  std::vector<std::string> changed;
  // A new value LINE accepted (`proven`) is sealed into the update, its hint beside it.
  const auto seal_proven =
      [&](const Secret& value, const absl::Status& proven, const std::string& context,
          std::optional<storage::SealedValue>& sealed_into, std::optional<std::string>& hint_into,
          absl::string_view field) -> absl::Status {
    if (!proven.ok()) return proven;
    absl::StatusOr<storage::SealedValue> sealed = sealer_->Seal(value, context);
    if (!sealed.ok()) return WithReason(sealed.status());
    sealed_into = *std::move(sealed);
    hint_into = value.Hint();
    changed.emplace_back(field);
    return absl::OkStatus();
  };
  if (new_secret) {
    if (absl::Status sealed = seal_proven(
            *new_secret, verifier_->ProveSecret(binding->channel_id, *new_secret, call.deadline),
            SecretContext(binding->channel_id), update.channel_secret, update.channel_secret_hint,
            "channel_secret");
        !sealed.ok()) {
      return sealed;
    }
  }
  if (new_token) {
    if (absl::Status sealed =
            seal_proven(*new_token,
                        verifier_->ProveToken(binding->channel_id, *new_token, binding->bot_user_id,
                                              call.deadline),
                        TokenContext(binding->channel_id), update.access_token,
                        update.access_token_hint, "access_token");
        !sealed.ok()) {
      return sealed;
    }
  }
  absl::StatusOr<storage::Binding> updated = store_->ReplaceCredentials(
      binding->row_id, update, {call.actor, clock_->Now(), absl::StrJoin(changed, ",")});
  if (!updated.ok()) return FromStore(updated.status());
  return updated;
}

absl::StatusOr<std::vector<storage::AuditRecord>> BindingService::Audit(
    const storage::Binding& binding) {
  absl::StatusOr<std::vector<storage::AuditRecord>> records = store_->ListAudit(binding.row_id);
  if (!records.ok()) return FromStore(records.status());
  return records;
}

absl::StatusOr<storage::AuditPage> BindingService::ListAudit(absl::string_view team_id,
                                                             absl::string_view channel_id,
                                                             int64_t before_id, int page_size) {
  absl::StatusOr<storage::AuditPage> page =
      store_->ListTeamAudit(team_id, channel_id, before_id, page_size);
  if (!page.ok()) return FromStore(page.status());
  return page;
}

}  // namespace linechannel::server
