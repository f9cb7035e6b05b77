#ifndef LINECHANNEL_SERVER_MESSAGING_LINE_CALL_H_
#define LINECHANNEL_SERVER_MESSAGING_LINE_CALL_H_

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/base/clock.h"
#include "server/base/metrics.h"
#include "storage/binding.h"
#include "storage/binding_store.h"

namespace linechannel::server {

// What every outbound call does with LINE's answer, whichever RPC made it.

// "ok", or the lower-case reason of `status`, for metrics.
std::string LineCallResult(const absl::Status& status);

// The error LINE's client returned, as this service answers it: a rejected access token is
// FAILED_PRECONDITION TOKEN_REJECTED (the caller's own credentials are fine; the binding's are
// not), and the binding is marked as needing attention in the words VerifyWebhook uses.
// Anything else is returned as it is.
absl::Status AnswerLineRefusal(absl::Status status, const storage::Binding& binding,
                               storage::BindingStore* bindings, const Clock* clock);

// The words a binding's attention reasons carry when LINE rejects its access token.
inline constexpr char kTokenRejectedAttention[] =
    "LINE rejected the stored access token: it was reissued, has expired or was revoked.";

// When a call to LINE made at `now` must give up: the caller's deadline, but never later than
// `cap` from now.
inline absl::Time LineDeadline(absl::Time caller_deadline, absl::Time now, absl::Duration cap) {
  return std::min(caller_deadline, now + cap);
}

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_MESSAGING_LINE_CALL_H_
