#include "server/binding/binding_proof.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/base/errors.h"
#include "server/crypto/sealing_contexts.h"

namespace linechannel::server {
namespace {

// The proof that another active binding holds the OA: the reason bind would have given.
absl::Status OaBoundElsewhere(const storage::Binding& binding, const storage::Binding& holder) {
  if (holder.team_id != binding.team_id) {
    return ReasonedError(
        absl::StatusCode::kAlreadyExists, reason::kOaBoundToOtherTeam,
        "LINE says this channel's OA is already bound to another team, so this binding stays "
        "unverified. Unbind it here, or unbind it in the other team and bind it here again.");
  }
  return ReasonedError(
      absl::StatusCode::kAlreadyExists, reason::kOaBoundWithOtherValues,
      absl::StrCat("LINE says this channel's OA is already bound by this team as channel ",
                   holder.channel_id, ", so this binding stays unverified. Unbind one of them."));
}

}  // namespace

std::vector<std::string> KeepingProofReason(const storage::Binding& binding,
                                            std::vector<std::string> reasons) {
  if (binding.verified_with_line) return reasons;
  for (const std::string& reason : binding.attention_reasons) {
    if (absl::StartsWith(reason, kNotVerifiedReason)) reasons.insert(reasons.begin(), reason);
  }
  return reasons;
}

absl::StatusOr<BindingProof::Outcome> BindingProof::Prove(const storage::Binding& binding,
                                                          absl::Time deadline) const {
  absl::StatusOr<Secret> secret =
      sealer_->Unseal(binding.channel_secret, SecretContext(binding.channel_id));
  if (!secret.ok()) return secret.status();
  absl::StatusOr<Secret> token =
      sealer_->Unseal(binding.access_token, TokenContext(binding.channel_id));
  if (!token.ok()) return token.status();

  absl::StatusOr<ProvenOa> proven =
      verifier_->ProveNew(binding.channel_id, *secret, *token, binding.line_id, deadline);
  if (!proven.ok()) {
    if (absl::IsFailedPrecondition(proven.status())) return Reject(binding, proven.status());
    return proven.status();  // LINE unreachable (checks required) or the deadline.
  }
  if (!proven->verified) {
    return absl::UnavailableError("LINE could not be reached to verify the binding");
  }

  storage::Binding holder;
  absl::StatusOr<storage::Binding> recorded = store_->RecordProof(
      binding.row_id, {proven->bot_user_id, proven->display_name, binding.credentials_updated_at},
      {kActor, clock_->Now(), "verified by re-check"}, &holder);
  if (recorded.ok()) return Outcome::kProved;
  if (absl::IsNotFound(recorded.status())) return Outcome::kGone;
  if (absl::IsAlreadyExists(recorded.status()) && holder.row_id != 0) {
    return Reject(binding, OaBoundElsewhere(binding, holder));
  }
  return recorded.status();
}

absl::StatusOr<BindingProof::Outcome> BindingProof::Reject(const storage::Binding& binding,
                                                           const absl::Status& why) const {
  const std::vector<std::string> reasons = {absl::StrCat(
      kNotVerifiedReason, ErrorReason(why).value_or(reason::kInternal), "): ", why.message())};
  absl::Status set = store_->SetAttention(binding.row_id, reasons, clock_->Now());
  if (absl::IsNotFound(set)) return Outcome::kGone;
  if (!set.ok()) return set;
  return Outcome::kRejected;
}

}  // namespace linechannel::server
