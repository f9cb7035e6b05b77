#ifndef LINECHANNEL_SERVER_BINDING_BINDING_PROOF_H_
#define LINECHANNEL_SERVER_BINDING_BINDING_PROOF_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/base/clock.h"
#include "server/binding/binding_verifier.h"
#include "server/crypto/secret_sealer.h"
#include "storage/binding_store.h"

namespace linechannel::server {

// How every attention reason a failed proof records starts.
inline constexpr char kNotVerifiedReason[] = "Not verified with LINE (";

// `reasons` plus the failed proof's reason among `binding`'s current ones, if it is unverified:
// checks that do not prove the five values (VerifyWebhook, the webhook re-check) must not
// clear it.
std::vector<std::string> KeepingProofReason(const storage::Binding& binding,
                                            std::vector<std::string> reasons);

// Proves after the fact what binding could not prove at bind time: a binding made unverified
// because LINE was unreachable (--line_checks=best_effort) gets the same five-value checks
// once LINE answers. Thread-safe.
class BindingProof {
 public:
  enum class Outcome {
    // LINE confirmed the values: the binding is verified, has its bot user id, its attention
    // reasons are cleared and the audit says "verified by re-check".
    kProved,
    // LINE said no (or the OA turned out to be bound elsewhere): the binding needs attention,
    // with the reason (the bind-time reason name, e.g. TOKEN_REJECTED) in its attention reasons.
    kRejected,
    // Nothing to do: the binding was unbound, proved or given new credentials meanwhile.
    kGone,
  };

  // Actor of the audit row a proof writes.
  static constexpr char kActor[] = "channeld re-check";

  BindingProof(storage::BindingStore* store, const BindingVerifier* verifier,
               const SecretSealer* sealer, const Clock* clock)
      : store_(store), verifier_(verifier), sealer_(sealer), clock_(clock) {}

  // Runs the bind-time checks for the unverified `binding` and records what LINE said.
  // UNAVAILABLE (nothing recorded) when LINE could not be asked or the store failed; try again
  // later. DEADLINE_EXCEEDED when `deadline` passed.
  absl::StatusOr<Outcome> Prove(const storage::Binding& binding, absl::Time deadline) const;

 private:
  // Records LINE's "no" (`why`, a reasoned error) as the binding's attention reason.
  absl::StatusOr<Outcome> Reject(const storage::Binding& binding, const absl::Status& why) const;

  storage::BindingStore* const store_;
  const BindingVerifier* const verifier_;
  const SecretSealer* const sealer_;
  const Clock* const clock_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_BINDING_PROOF_H_
