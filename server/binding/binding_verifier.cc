#include "server/binding/binding_verifier.h"

#include "absl/strings/str_cat.h"
#include "server/base/errors.h"
#include "server/binding/line_id.h"

namespace linechannel::server {
namespace {

bool LineUnreachable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsResourceExhausted(status);
}

}  // namespace

absl::StatusOr<LineChecks> ParseLineChecks(absl::string_view text) {
  if (text == "required") return LineChecks::kRequired;
  if (text == "best_effort") return LineChecks::kBestEffort;
  if (text == "off") return LineChecks::kOff;
  return absl::InvalidArgumentError(
      absl::StrCat("line checks must be required, best_effort or off, not \"", text, "\""));
}

absl::Status BindingVerifier::Failure(const absl::Status& status, Step step) const {
  if (absl::IsDeadlineExceeded(status)) {
    return ReasonedError(
        absl::StatusCode::kDeadlineExceeded, reason::kDeadlineExceeded,
        absl::StrCat("the request's deadline passed while asking LINE: ", status.message()));
  }
  if (LineUnreachable(status)) {
    if (checks_ == LineChecks::kBestEffort) return absl::OkStatus();
    const bool limited = absl::IsResourceExhausted(status);
    return WithRetryDelay(
        ReasonedError(
            absl::StatusCode::kUnavailable, reason::kLineUnavailable,
            absl::StrCat(limited ? "LINE is rate-limiting us" : "LINE could not be reached",
                         ", so the values could not be checked and nothing was "
                         "stored; try again shortly. (",
                         status.message(), ")")),
        limited ? absl::Seconds(30) : absl::Seconds(2));
  }
  const bool secret = step == Step::kSecret;
  return ReasonedError(
      absl::StatusCode::kFailedPrecondition,
      secret ? reason::kSecretRejected : reason::kTokenRejected,
      absl::StrCat(secret ? "LINE rejected the channel secret: it is not the secret of this "
                            "Channel ID, or it was reissued. Copy the Channel ID and Channel "
                            "secret again from LINE Developers (Basic settings). ("
                          : "LINE rejected the channel access token: it is invalid, expired, "
                            "revoked or was reissued. Issue a long-lived channel access token "
                            "in LINE Developers (Messaging API tab) and use that. (",
                   status.message(), ")"));
}

absl::StatusOr<LineBotInfo> BindingVerifier::ProveTokenChannel(const std::string& channel_id,
                                                               const Secret& token,
                                                               absl::Time deadline,
                                                               bool* line_unreachable) const {
  absl::StatusOr<LineTokenInfo> token_info = line_->VerifyAccessToken(token, deadline);
  if (!token_info.ok()) {
    if (absl::Status failure = Failure(token_info.status(), Step::kToken); !failure.ok()) {
      return failure;
    }
    *line_unreachable = true;
    return LineBotInfo{};
  }
  if (token_info->client_id != channel_id) {
    return ReasonedError(absl::StatusCode::kFailedPrecondition, reason::kTokenChannelMismatch,
                         absl::StrCat("The channel access token belongs to channel ",
                                      token_info->client_id, ", not to channel ", channel_id,
                                      ". Copy the token from the Messaging API "
                                      "tab of channel ",
                                      channel_id, " in LINE Developers."),
                         {{"token_channel_id", token_info->client_id}});
  }
  absl::StatusOr<LineBotInfo> bot = line_->GetBotInfo(token, deadline);
  if (!bot.ok()) {
    if (absl::Status failure = Failure(bot.status(), Step::kToken); !failure.ok()) {
      return failure;
    }
    *line_unreachable = true;
    return LineBotInfo{};
  }
  return bot;
}

absl::StatusOr<ProvenOa> BindingVerifier::ProveNew(const std::string& channel_id,
                                                   const Secret& secret, const Secret& token,
                                                   absl::string_view line_id,
                                                   absl::Time deadline) const {
  if (checks_ == LineChecks::kOff) return ProvenOa{};
  if (absl::Status checked = line_->CheckChannelSecret(channel_id, secret, deadline);
      !checked.ok()) {
    if (absl::Status failure = Failure(checked, Step::kSecret); !failure.ok()) return failure;
    return ProvenOa{};  // Best effort, LINE unreachable.
  }
  bool line_unreachable = false;
  absl::StatusOr<LineBotInfo> bot =
      ProveTokenChannel(channel_id, token, deadline, &line_unreachable);
  if (!bot.ok()) return bot.status();
  if (line_unreachable) return ProvenOa{};

  const std::string basic_id = NormalizeLineId(bot->basic_id);
  const std::string premium_id = NormalizeLineId(bot->premium_id);
  if (line_id != basic_id && (premium_id.empty() || line_id != premium_id)) {
    return ReasonedError(
        absl::StatusCode::kFailedPrecondition, reason::kLineIdMismatch,
        absl::StrCat("LINE ID @", line_id, " is not the OA of channel ", channel_id,
                     ": LINE says its basic ID is @", basic_id,
                     premium_id.empty() ? "" : absl::StrCat(" and its premium ID is @", premium_id),
                     ". Give that LINE ID, or the channel of OA @", line_id, "."),
        {{"line_basic_id", basic_id}, {"line_premium_id", premium_id}});
  }
  return ProvenOa{true, bot->user_id, bot->display_name};
}

absl::Status BindingVerifier::ProveSecret(const std::string& channel_id, const Secret& secret,
                                          absl::Time deadline) const {
  if (checks_ == LineChecks::kOff) return absl::OkStatus();
  absl::Status checked = line_->CheckChannelSecret(channel_id, secret, deadline);
  return checked.ok() ? checked : Failure(checked, Step::kSecret);
}

absl::Status BindingVerifier::ProveToken(const std::string& channel_id, const Secret& token,
                                         absl::string_view bot_user_id, absl::Time deadline) const {
  if (checks_ == LineChecks::kOff) return absl::OkStatus();
  bool line_unreachable = false;
  absl::StatusOr<LineBotInfo> bot =
      ProveTokenChannel(channel_id, token, deadline, &line_unreachable);
  if (!bot.ok()) return bot.status();
  if (!line_unreachable && !bot_user_id.empty() && bot->user_id != bot_user_id) {
    return ReasonedError(
        absl::StatusCode::kFailedPrecondition, reason::kBotUserMismatch,
        absl::StrCat("The new access token belongs to another OA (bot user ", bot->user_id,
                     ") than the bound one (bot user ", bot_user_id,
                     "). Issue the token in the bound channel's Messaging API tab."),
        {{"token_bot_user_id", bot->user_id}});
  }
  return absl::OkStatus();
}

}  // namespace linechannel::server
