#include "server/messaging/line_call.h"

#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/base/errors.h"
#include "server/base/logger.h"

namespace linechannel::server {

std::string LineCallResult(const absl::Status& status) {
  if (status.ok()) return "ok";
  const std::optional<std::string> reason = ErrorReason(status);
  return absl::AsciiStrToLower(reason ? *reason : absl::StatusCodeToString(status.code()));
}

absl::Status AnswerLineRefusal(absl::Status status, const storage::Binding& binding,
                               storage::BindingStore* bindings, const Clock* clock) {
  if (ErrorReason(status) != reason::kTokenRejected) return status;
  const std::vector<std::string> reasons = {kTokenRejectedAttention};
  if (absl::Status marked = bindings->SetAttention(binding.row_id, reasons, clock->Now());
      !marked.ok()) {
    LogLine(LogLevel::kWarning, "binding_attention_not_saved")
        .With("binding_id", binding.binding_id)
        .WithStatus(marked);
  }
  return ReasonedError(
      absl::StatusCode::kFailedPrecondition, reason::kTokenRejected,
      absl::StrCat(status.message(), "; the binding needs a new access token (UpdateCredentials)"));
}

}  // namespace linechannel::server
