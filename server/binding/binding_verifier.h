#ifndef LINECHANNEL_SERVER_BINDING_BINDING_VERIFIER_H_
#define LINECHANNEL_SERVER_BINDING_BINDING_VERIFIER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/line/line_api.h"
#include "server/crypto/secret.h"

namespace linechannel::server {

// How strictly binding insists on LINE's confirmation.
enum class LineChecks {
  // Every check must pass; LINE unreachable means no binding (the default).
  kRequired,
  // LINE's "no" still refuses, but when LINE cannot be reached the binding is made unverified.
  kBestEffort,
  // LINE is not asked at all (offline use); bindings are unverified and have no bot user id.
  kOff,
};

// Parses "required", "best_effort" or "off".
absl::StatusOr<LineChecks> ParseLineChecks(absl::string_view text);

// What LINE confirmed about an OA.
struct ProvenOa {
  // False when LINE was not asked (checks off) or could not be reached (best effort).
  bool verified = false;
  // Empty when not verified.
  std::string bot_user_id;
  std::string display_name;
};

// Proves with LINE that a team's values belong to one OA (DESIGN.md "Binding, done right").
// Thread-safe.
//
// Errors (all with a reason and a next step in the message):
//   FAILED_PRECONDITION  SECRET_REJECTED, TOKEN_REJECTED, TOKEN_CHANNEL_MISMATCH,
//                        LINE_ID_MISMATCH, BOT_USER_MISMATCH
//   UNAVAILABLE          LINE_UNAVAILABLE, with a retry delay (only with checks required)
//   DEADLINE_EXCEEDED    the caller's deadline passed
class BindingVerifier {
 public:
  BindingVerifier(LineApi* line, LineChecks checks) : line_(line), checks_(checks) {}

  // The secret issues a token for `channel_id`; the token's channel is `channel_id`; the
  // token's bot has `line_id` (normalized) as basic or premium ID.
  absl::StatusOr<ProvenOa> ProveNew(const std::string& channel_id, const Secret& secret,
                                    const Secret& token, absl::string_view line_id,
                                    absl::Time deadline) const;

  // For a credential update: the new secret issues a token for `channel_id`.
  absl::Status ProveSecret(const std::string& channel_id, const Secret& secret,
                           absl::Time deadline) const;

  // For a credential update: the new token's channel is `channel_id` and its bot is
  // `bot_user_id` (unless that is empty: an unverified binding).
  absl::Status ProveToken(const std::string& channel_id, const Secret& token,
                          absl::string_view bot_user_id, absl::Time deadline) const;

  LineChecks checks() const { return checks_; }

 private:
  enum class Step { kSecret, kToken };

  // Turns a LINE client failure into the error the caller sees, or OK when best effort lets
  // binding go on without LINE.
  absl::Status Failure(const absl::Status& status, Step step) const;
  absl::StatusOr<LineBotInfo> ProveTokenChannel(const std::string& channel_id, const Secret& token,
                                                absl::Time deadline, bool* line_unreachable) const;

  LineApi* const line_;
  const LineChecks checks_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_BINDING_VERIFIER_H_
