#ifndef LINECHANNEL_SERVER_BASE_ERRORS_H_
#define LINECHANNEL_SERVER_BASE_ERRORS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace linechannel::server {

// The ErrorInfo domain of every error this service raises.
inline constexpr char kErrorDomain[] = "linechannel.v1";

// Stable reasons (google.rpc.ErrorInfo.reason). Clients branch on these; never rename one.
namespace reason {
inline constexpr char kInvalidFields[] = "INVALID_FIELDS";
inline constexpr char kSecretRejected[] = "SECRET_REJECTED";
inline constexpr char kTokenRejected[] = "TOKEN_REJECTED";
inline constexpr char kTokenChannelMismatch[] = "TOKEN_CHANNEL_MISMATCH";
inline constexpr char kLineIdMismatch[] = "LINE_ID_MISMATCH";
inline constexpr char kBotUserMismatch[] = "BOT_USER_MISMATCH";
inline constexpr char kOaBoundToOtherTeam[] = "OA_BOUND_TO_OTHER_TEAM";
inline constexpr char kOaBoundWithOtherValues[] = "OA_BOUND_WITH_OTHER_VALUES";
inline constexpr char kLineUnavailable[] = "LINE_UNAVAILABLE";
inline constexpr char kBindingNotFound[] = "BINDING_NOT_FOUND";
inline constexpr char kStorageUnavailable[] = "STORAGE_UNAVAILABLE";
inline constexpr char kOverloaded[] = "OVERLOADED";
inline constexpr char kDeadlineExceeded[] = "DEADLINE_EXCEEDED";
inline constexpr char kCancelled[] = "CANCELLED";
inline constexpr char kInternal[] = "INTERNAL";
inline constexpr char kUnauthenticated[] = "UNAUTHENTICATED";
inline constexpr char kTeamNotAllowed[] = "TEAM_NOT_ALLOWED";
inline constexpr char kAdminOnly[] = "ADMIN_ONLY";
inline constexpr char kShuttingDown[] = "SHUTTING_DOWN";
// Outbound messaging (what LINE refuses, and this service's own limits).
inline constexpr char kReplyTokenInvalid[] = "REPLY_TOKEN_INVALID";
inline constexpr char kMarkAsReadTokenInvalid[] = "MARK_AS_READ_TOKEN_INVALID";
inline constexpr char kRecipientUnavailable[] = "RECIPIENT_UNAVAILABLE";
inline constexpr char kMonthlyQuotaExhausted[] = "MONTHLY_QUOTA_EXHAUSTED";
inline constexpr char kLineRateLimited[] = "LINE_RATE_LIMITED";
inline constexpr char kLineRefusedRequest[] = "LINE_REFUSED_REQUEST";
inline constexpr char kOutcomeUnknown[] = "OUTCOME_UNKNOWN";
inline constexpr char kProfileNotFound[] = "PROFILE_NOT_FOUND";
inline constexpr char kContentNotFound[] = "CONTENT_NOT_FOUND";
inline constexpr char kContentNotReady[] = "CONTENT_NOT_READY";
inline constexpr char kPushNotFound[] = "PUSH_NOT_FOUND";
inline constexpr char kRequestIdReused[] = "REQUEST_ID_REUSED";
inline constexpr char kOutboundRateLimited[] = "OUTBOUND_RATE_LIMITED";
}  // namespace reason

// One invalid request field and why, in words a user can act on.
struct FieldViolation {
  std::string field;
  std::string description;
};

// An error with a stable reason and optional facts (never secrets). The reason and facts
// travel as a google.rpc.ErrorInfo payload of the status.
absl::Status ReasonedError(absl::StatusCode code, absl::string_view reason,
                           absl::string_view message,
                           const std::map<std::string, std::string>& metadata = {});

// INVALID_ARGUMENT naming every violation (message and google.rpc.BadRequest payload).
absl::Status InvalidFieldsError(const std::vector<FieldViolation>& violations);

// Adds a google.rpc.RetryInfo payload: the client may retry after `delay`.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);

// The reason of a ReasonedError, if `status` carries one.
std::optional<std::string> ErrorReason(const absl::Status& status);

// The delay WithRetryDelay added to `status`, if any.
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);

// Keeps an error from a lower layer (the store, the LINE client, the deadline) as it is when
// it already has a reason, and otherwise gives it one from its code: storage outages are
// retryable, deadlines and cancellations say so, the rest is INTERNAL.
absl::Status WithReason(absl::Status status);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BASE_ERRORS_H_
