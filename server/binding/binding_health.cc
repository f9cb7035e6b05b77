#include "server/binding/binding_health.h"

#include "absl/strings/str_cat.h"

namespace linechannel::server {
namespace {

std::string Time(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// Whether `trouble` happened after the last correctly signed request (or with none yet).
bool Unresolved(const std::optional<absl::Time>& trouble,
                const std::optional<absl::Time>& last_signed) {
  return trouble.has_value() && (!last_signed.has_value() || *trouble > *last_signed);
}

}  // namespace

BindingHealth HealthOfFindings(const std::vector<std::string>& attention_reasons,
                               bool bot_suspended) {
  BindingHealth health;
  health.reasons = attention_reasons;
  if (bot_suspended) health.reasons.push_back(kBotSuspendedReason);
  health.state = health.reasons.empty() ? BindingState::kActive : BindingState::kNeedsAttention;
  return health;
}

BindingHealth HealthOf(const storage::Binding& binding) {
  if (!binding.active()) {
    BindingHealth health;
    health.state = BindingState::kUnbound;
    return health;
  }
  BindingHealth health = HealthOfFindings(binding.attention_reasons, binding.bot_suspended);
  const storage::WebhookActivity& activity = binding.activity;
  // Webhook trouble counts until a correctly signed request arrives after it.
  const struct {
    const std::optional<absl::Time>& last;
    absl::string_view what;
    absl::string_view remedy;
  } troubles[] = {
      {activity.last_bad_signature, "Webhook requests with a bad signature arrived",
       " and none with a good one since: the channel secret was probably reissued. Store the "
       "current one from LINE Developers (Basic settings) with UpdateCredentials."},
      {activity.last_destination_mismatch, "Webhook requests for another bot arrived at this URL",
       ": this webhook URL is set in another channel's LINE settings. Set that channel's own URL "
       "there."},
  };
  for (const auto& trouble : troubles) {
    if (!Unresolved(trouble.last, activity.last_signed_request)) continue;
    health.reasons.push_back(
        absl::StrCat(trouble.what, " (the last at ", Time(*trouble.last), ")", trouble.remedy));
  }
  health.state = health.reasons.empty() ? BindingState::kActive : BindingState::kNeedsAttention;
  return health;
}

}  // namespace linechannel::server
