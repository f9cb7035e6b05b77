#include "tools/fake_line/bot_gate.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tools/fake_line/responses.h"

namespace linechannel::fake_line {
namespace {

constexpr char kAuthMissing[] =
    "Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS "
    "TOKEN>'";

// The token of an "Authorization: Bearer <token>" header; "" when absent or another scheme.
std::string BearerToken(const HttpRequest& request) {
  const std::string header = request.Header("authorization");
  constexpr absl::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(absl::string_view(header).substr(0, kScheme.size()), kScheme)) {
    return "";
  }
  return std::string(absl::StripAsciiWhitespace(absl::string_view(header).substr(kScheme.size())));
}

// The answer to an injected failure, in the endpoint family's error shape.
HttpResponse InjectedFailure(int status, bool oauth, int64_t retry_after_seconds) {
  HttpResponse response;
  if (status == 429) {
    response = oauth ? OAuthError(429, "too_many_requests", kRateLimitMessage)
                     : BotError(429, kRateLimitMessage);
    response.headers.emplace_back("Retry-After", absl::StrCat(retry_after_seconds));
  } else if (status >= 500) {
    const char* message = status == 503 ? "Service unavailable" : "Internal server error";
    response = oauth
                   ? OAuthError(status, status == 503 ? "temporarily_unavailable" : "server_error",
                                message)
                   : BotError(status, message);
  } else {
    response = oauth ? OAuthError(status, "invalid_request", "injected failure")
                     : BotError(status, "Injected failure");
  }
  return response;
}

}  // namespace

void BotGate::Delay(int64_t millis) const {
  if (millis > 0) stopping_->WaitForNotificationWithTimeout(absl::Milliseconds(millis));
}

std::optional<HttpResponse> BotGate::ApplyFaults(const std::optional<std::string>& channel_id,
                                                 const char* call_key, Family family) const {
  const Faults global = registry_->global_faults();
  Delay(global.delay_ms);
  int fail_status = global.fail_status;
  if (channel_id.has_value()) {
    registry_->CountCall(*channel_id, call_key);
    absl::StatusOr<ChannelState> state = registry_->Get(*channel_id);
    if (state.ok()) {
      Delay(state->faults.delay_ms);
      if (state->faults.fail_status != 0) fail_status = state->faults.fail_status;
    }
  }
  if (fail_status == 0) return std::nullopt;
  return InjectedFailure(fail_status, family == Family::kOAuth, 1);
}

std::variant<ChannelState, HttpResponse> BotGate::Admit(const HttpRequest& request,
                                                        const char* call_key) const {
  const std::string token = BearerToken(request);
  const std::optional<TokenOwner> owner =
      token.empty() ? std::nullopt : registry_->FindToken(token);
  if (auto failure =
          ApplyFaults(owner ? std::optional<std::string>(owner->channel_id) : std::nullopt,
                      call_key, Family::kBot)) {
    return *std::move(failure);
  }
  if (token.empty()) return BotError(401, kAuthMissing);
  if (!owner.has_value() || owner->revoked || owner->expired)
    return BotError(401, kAuthFailedMessage);
  absl::StatusOr<ChannelState> state = registry_->Get(owner->channel_id);
  if (!state.ok()) return BotError(401, kAuthFailedMessage);
  return *std::move(state);
}

HttpResponse BotGate::Serve(const HttpRequest& request, const char* call_key,
                            const std::function<HttpResponse(const ChannelState&)>& handle) const {
  std::variant<ChannelState, HttpResponse> admitted = Admit(request, call_key);
  if (auto* refusal = std::get_if<HttpResponse>(&admitted)) return std::move(*refusal);
  const ChannelState& state = std::get<ChannelState>(admitted);
  const std::optional<ScriptedFault> fault = faults_->Take(state.channel.channel_id, call_key);
  if (!fault.has_value()) return handle(state);
  // The work happens (or not) first; the held or lost answer comes after.
  if (fault->after_accept) handle(state);
  return FaultAnswer(*fault);
}

HttpResponse BotGate::FaultAnswer(const ScriptedFault& fault) const {
  HttpResponse response;
  switch (fault.kind) {
    case ScriptedFault::Kind::kStatus:
      return InjectedFailure(fault.status, false, fault.retry_after_seconds);
    case ScriptedFault::Kind::kTimeout:
      faults_->Hold(fault.hold, stopping_);
      response.drop_connection = true;
      return response;
    case ScriptedFault::Kind::kDrop:
      response.drop_connection = true;
      return response;
  }
  return response;
}

}  // namespace linechannel::fake_line
