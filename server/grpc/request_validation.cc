#include "server/grpc/request_validation.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/base/errors.h"
#include "server/messaging/message_checks.h"
#include "simdjson.h"

namespace linechannel::server {
namespace {

constexpr size_t kMaxTeamIdLength = 64;
constexpr size_t kMaxChannelIdLength = 20;
constexpr size_t kMaxAppNameCharacters = 100;
constexpr size_t kChannelSecretLength = 32;
constexpr size_t kMaxAccessTokenLength = 2048;
constexpr size_t kMaxLineIdLength = 30;
constexpr size_t kMaxRequestIdLength = 64;
constexpr size_t kMaxReplyTokenLength = 256;
constexpr size_t kMaxMarkAsReadTokenLength = 512;
constexpr size_t kMaxMessageIdLength = 64;
constexpr size_t kLineChatIdHexDigits = 32;
constexpr int kMaxLoadingSeconds = 60;
constexpr int kLoadingSecondsStep = 5;
constexpr char kPageTokenPrefix[] = "after:";
// Audit tokens hold an audit row id, so they are told apart from ListChannels' row positions.
constexpr char kAuditPageTokenPrefix[] = "audit-before:";

using Violations = std::vector<FieldViolation>;

bool AllOf(absl::string_view value, bool (*allowed)(unsigned char)) {
  for (char c : value) {
    if (!allowed(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsIdChar(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
}
bool IsDigit(unsigned char c) { return absl::ascii_isdigit(c); }
bool IsHex(unsigned char c) { return absl::ascii_isxdigit(c); }
bool IsLowerHex(unsigned char c) { return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'); }
bool IsTokenChar(unsigned char c) { return c > 0x20 && c < 0x7f; }
bool IsLineIdChar(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '.' || c == '-' || c == '_';
}
bool HasWhitespace(absl::string_view value) {
  for (char c : value) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

void CheckTeamId(absl::string_view team_id, Violations& out) {
  if (team_id.empty()) {
    out.push_back({"team_id", "required"});
  } else if (team_id.size() > kMaxTeamIdLength || !AllOf(team_id, IsIdChar)) {
    out.push_back({"team_id", absl::StrCat("must be 1-", kMaxTeamIdLength,
                                           " letters, digits, '-', '_', '.' or ':'")});
  }
}

void CheckChannelId(absl::string_view channel_id, Violations& out) {
  if (channel_id.empty()) {
    out.push_back({"channel_id", "required: the Channel ID from LINE Developers (Basic settings)"});
  } else if (channel_id.size() > kMaxChannelIdLength || !AllOf(channel_id, IsDigit)) {
    out.push_back({"channel_id",
                   "must be the Channel ID from LINE Developers (Basic settings): digits only, "
                   "for example 1656000001"});
  }
}

void CheckAppName(absl::string_view app_name, Violations& out) {
  if (absl::StripAsciiWhitespace(app_name).empty()) {
    out.push_back({"app_name", "required: the app's name as shown in LINE Developers"});
    return;
  }
  if (!simdjson::validate_utf8(app_name.data(), app_name.size())) {
    out.push_back({"app_name", "is not valid UTF-8"});
    return;
  }
  size_t characters = 0;
  for (char c : app_name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out.push_back({"app_name", "must not contain control characters or line breaks"});
      return;
    }
    if ((byte & 0xc0) != 0x80) ++characters;
  }
  if (characters > kMaxAppNameCharacters) {
    out.push_back(
        {"app_name", absl::StrCat("must be at most ", kMaxAppNameCharacters, " characters")});
  }
}

void CheckChannelSecret(absl::string_view secret, Violations& out) {
  const absl::string_view where =
      "the Channel secret from LINE Developers (Basic settings) is 32 hexadecimal characters";
  if (secret.empty()) {
    out.push_back({"channel_secret", absl::StrCat("required: ", where)});
  } else if (HasWhitespace(secret)) {
    out.push_back({"channel_secret", "contains spaces or line breaks: copy it again without them"});
  } else if (secret.size() > 100) {
    out.push_back(
        {"channel_secret",
         absl::StrCat("looks like a channel access token, not a channel secret: ", where)});
  } else if (secret.size() != kChannelSecretLength || !AllOf(secret, IsHex)) {
    out.push_back({"channel_secret", absl::StrCat("is not a channel secret: ", where)});
  }
}

void CheckAccessToken(absl::string_view token, Violations& out) {
  const absl::string_view where =
      "issue a long-lived channel access token in LINE Developers (Messaging API tab)";
  if (token.empty()) {
    out.push_back({"channel_access_token", absl::StrCat("required: ", where)});
  } else if (absl::StartsWithIgnoreCase(token, "bearer ")) {
    out.push_back({"channel_access_token", "give the token without the \"Bearer \" prefix"});
  } else if (HasWhitespace(token)) {
    out.push_back(
        {"channel_access_token", "contains spaces or line breaks: copy it again without them"});
  } else if (token.size() == kChannelSecretLength && AllOf(token, IsHex)) {
    out.push_back({"channel_access_token",
                   absl::StrCat("looks like a channel secret, not an access token: ", where)});
  } else if (token.size() > kMaxAccessTokenLength || !AllOf(token, IsTokenChar)) {
    out.push_back({"channel_access_token",
                   absl::StrCat("is not a channel access token (at most ", kMaxAccessTokenLength,
                                " printable ASCII characters): ", where)});
  }
}

void CheckLineId(absl::string_view line_id, Violations& out) {
  // "@abc" and "abc" are the same LINE ID.
  absl::string_view bare = line_id;
  absl::ConsumePrefix(&bare, "@");
  if (line_id.empty()) {
    out.push_back({"line_id", "required: the OA's basic ID (such as @123abcde) or premium ID"});
  } else if (bare.empty() || bare.size() > kMaxLineIdLength || !AllOf(bare, IsLineIdChar)) {
    out.push_back({"line_id",
                   "must be the OA's LINE ID: the basic ID such as @123abcde, or the premium "
                   "ID (letters, digits, '.', '-', '_')"});
  }
}

// A user, group or room ID as LINE writes them in webhook events: one of `kinds` ('U', 'C',
// 'R'), then 32 lower-case hex digits.
bool IsLineChatId(absl::string_view id, absl::string_view kinds) {
  return id.size() == 1 + kLineChatIdHexDigits && absl::StrContains(kinds, id.front()) &&
         AllOf(id.substr(1), IsLowerHex);
}

void CheckLineChatId(absl::string_view field, absl::string_view id, absl::string_view kinds,
                     absl::string_view what, Violations& out) {
  const std::string expected = absl::StrCat(what, " from a webhook event's source, followed by ",
                                            kLineChatIdHexDigits, " lower-case hexadecimal digits");
  if (id.empty()) {
    out.push_back({std::string(field), absl::StrCat("required: ", expected)});
  } else if (!IsLineChatId(id, kinds)) {
    out.push_back({std::string(field), absl::StrCat("must be ", expected)});
  }
}

// Single-use tokens LINE hands out with webhook events. Never quoted back.
void CheckEventToken(absl::string_view field, absl::string_view token, size_t max_length,
                     absl::string_view what, Violations& out) {
  if (token.empty()) {
    out.push_back({std::string(field), absl::StrCat("required: ", what)});
  } else if (token.size() > max_length || !AllOf(token, IsTokenChar)) {
    out.push_back(
        {std::string(field), absl::StrCat("is not ", what, " (at most ", max_length,
                                          " printable ASCII characters without spaces)")});
  }
}

void CheckRequestId(absl::string_view request_id, Violations& out) {
  if (request_id.empty()) {
    out.push_back({"request_id", "required: the push's key, so that a retry sends it only once"});
  } else if (request_id.size() > kMaxRequestIdLength || !AllOf(request_id, IsIdChar)) {
    out.push_back({"request_id", absl::StrCat("must be 1-", kMaxRequestIdLength,
                                              " letters, digits, '-', '_', '.' or ':'")});
  }
}

void CheckMessageList(const google::protobuf::RepeatedPtrField<std::string>& messages,
                      Violations& out) {
  for (FieldViolation& violation :
       CheckMessages(std::vector<std::string>(messages.begin(), messages.end()))) {
    out.push_back(std::move(violation));
  }
}

// The violations of the binding a request names; each RPC's own checks add to them.
Violations BindingViolations(absl::string_view team_id, absl::string_view channel_id) {
  Violations violations;
  CheckTeamId(team_id, violations);
  CheckChannelId(channel_id, violations);
  return violations;
}

absl::Status Result(const Violations& violations) {
  return violations.empty() ? absl::OkStatus() : InvalidFieldsError(violations);
}

}  // namespace

absl::Status ValidateBindChannel(const v1::BindChannelRequest& request) {
  Violations violations;
  CheckTeamId(request.team_id(), violations);
  CheckAppName(request.app_name(), violations);
  CheckChannelId(request.channel_id(), violations);
  CheckChannelSecret(request.channel_secret(), violations);
  CheckAccessToken(request.channel_access_token(), violations);
  CheckLineId(request.line_id(), violations);
  return Result(violations);
}

absl::Status ValidateUpdateCredentials(const v1::UpdateCredentialsRequest& request) {
  Violations violations;
  CheckTeamId(request.team_id(), violations);
  CheckChannelId(request.channel_id(), violations);
  if (request.channel_secret().empty() && request.channel_access_token().empty()) {
    violations.push_back(
        {"channel_secret", "give the new channel secret, the new access token, or both"});
    violations.push_back(
        {"channel_access_token", "give the new channel secret, the new access token, or both"});
  }
  if (!request.channel_secret().empty()) CheckChannelSecret(request.channel_secret(), violations);
  if (!request.channel_access_token().empty()) {
    CheckAccessToken(request.channel_access_token(), violations);
  }
  return Result(violations);
}

absl::Status ValidateListChannels(const v1::ListChannelsRequest& request) {
  Violations violations;
  CheckTeamId(request.team_id(), violations);
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    violations.push_back(
        {"page_size", absl::StrCat("must be 0 (for ", kDefaultPageSize, ") to ", kMaxPageSize)});
  }
  if (!v1::BindingState_IsValid(request.state())) {
    violations.push_back({"state", "must be ACTIVE, NEEDS_ATTENTION or UNBOUND (or unset)"});
  }
  int64_t after = 0;
  if (!request.page_token().empty() && !DecodePageToken(request.page_token(), &after)) {
    violations.push_back({"page_token", "is not a page token from an earlier ListChannels answer"});
  }
  return Result(violations);
}

absl::Status ValidateListAuditEntries(const v1::ListAuditEntriesRequest& request) {
  Violations violations;
  CheckTeamId(request.team_id(), violations);
  if (!request.channel_id().empty()) CheckChannelId(request.channel_id(), violations);
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    violations.push_back(
        {"page_size", absl::StrCat("must be 0 (for ", kDefaultPageSize, ") to ", kMaxPageSize)});
  }
  int64_t before = 0;
  if (!request.page_token().empty() && !DecodeAuditPageToken(request.page_token(), &before)) {
    violations.push_back(
        {"page_token", "is not a page token from an earlier ListAuditEntries answer"});
  }
  return Result(violations);
}

absl::Status ValidateBindingRef(absl::string_view team_id, absl::string_view channel_id) {
  return Result(BindingViolations(team_id, channel_id));
}

absl::Status ValidateReplyMessage(const v1::ReplyMessageRequest& request) {
  Violations violations = BindingViolations(request.team_id(), request.channel_id());
  CheckEventToken("reply_token", request.reply_token(), kMaxReplyTokenLength,
                  "the replyToken of the webhook event you answer", violations);
  CheckMessageList(request.messages(), violations);
  return Result(violations);
}

absl::Status ValidatePushMessage(const v1::PushMessageRequest& request) {
  Violations violations = BindingViolations(request.team_id(), request.channel_id());
  CheckLineChatId("to", request.to(), "UCR", "a user (U), group (C) or room (R) ID", violations);
  CheckMessageList(request.messages(), violations);
  CheckRequestId(request.request_id(), violations);
  return Result(violations);
}

absl::Status ValidateGetPush(const v1::GetPushRequest& request) {
  Violations violations = BindingViolations(request.team_id(), request.channel_id());
  CheckRequestId(request.request_id(), violations);
  return Result(violations);
}

absl::Status ValidateGetProfile(const v1::GetProfileRequest& request) {
  Violations violations = BindingViolations(request.team_id(), request.channel_id());
  CheckLineChatId("user_id", request.user_id(), "U", "a user ID (U)", violations);
  if (!request.group_id().empty() && !request.room_id().empty()) {
    violations.push_back({"group_id", "set group_id or room_id, not both"});
    violations.push_back({"room_id", "set group_id or room_id, not both"});
  } else if (!request.group_id().empty()) {
    CheckLineChatId("group_id", request.group_id(), "C", "a group ID (C)", violations);
  } else if (!request.room_id().empty()) {
    CheckLineChatId("room_id", request.room_id(), "R", "a room ID (R)", violations);
  }
  return Result(violations);
}

absl::Status ValidateGetMessageContent(const v1::GetMessageContentRequest& request) {
  Violations violations = BindingViolations(request.team_id(), request.channel_id());
  const std::string& id = request.message_id();
  if (id.empty()) {
    violations.push_back({"message_id", "required: the message.id of the webhook event"});
  } else if (id.size() > kMaxMessageIdLength || !AllOf(id, IsDigit)) {
    violations.push_back(
        {"message_id", absl::StrCat("must be the message.id of the webhook event: 1-",
                                    kMaxMessageIdLength, " digits")});
  }
  return Result(violations);
}

absl::Status ValidateGetMessageQuota(const v1::GetMessageQuotaRequest& request) {
  return ValidateBindingRef(request.team_id(), request.channel_id());
}

absl::Status ValidateMarkAsRead(const v1::MarkAsReadRequest& request) {
  Violations violations = BindingViolations(request.team_id(), request.channel_id());
  CheckEventToken("mark_as_read_token", request.mark_as_read_token(), kMaxMarkAsReadTokenLength,
                  "the message.markAsReadToken of a message event", violations);
  return Result(violations);
}

absl::Status ValidateShowLoadingAnimation(const v1::ShowLoadingAnimationRequest& request) {
  Violations violations = BindingViolations(request.team_id(), request.channel_id());
  CheckLineChatId("chat_id", request.chat_id(), "U", "a user ID (U)", violations);
  const int seconds = request.loading_seconds();
  if (seconds != 0 && (seconds < kLoadingSecondsStep || seconds > kMaxLoadingSeconds ||
                       seconds % kLoadingSecondsStep != 0)) {
    violations.push_back({"loading_seconds",
                          absl::StrCat("must be 0 (for 20) or ", kLoadingSecondsStep, "-",
                                       kMaxLoadingSeconds, " in steps of ", kLoadingSecondsStep)});
  }
  return Result(violations);
}

absl::Status ValidateEventQuery(absl::string_view team_id, absl::string_view channel_id,
                                int64_t after_cursor, int32_t page_size) {
  Violations violations;
  CheckTeamId(team_id, violations);
  if (!channel_id.empty()) CheckChannelId(channel_id, violations);
  if (after_cursor < 0) {
    violations.push_back({"after_cursor", "must be 0 (from the start) or a cursor received"});
  }
  if (page_size < 0 || page_size > kMaxPageSize) {
    violations.push_back(
        {"page_size", absl::StrCat("must be 0 (for ", kDefaultPageSize, ") to ", kMaxPageSize)});
  }
  return Result(violations);
}

namespace {

std::string EncodeToken(absl::string_view prefix, int64_t position) {
  return absl::WebSafeBase64Escape(absl::StrCat(prefix, position));
}

bool DecodeToken(absl::string_view prefix, absl::string_view token, int64_t* position) {
  std::string decoded;
  if (token.size() > 64 || !absl::WebSafeBase64Unescape(token, &decoded)) return false;
  absl::string_view rest = decoded;
  return absl::ConsumePrefix(&rest, prefix) && absl::SimpleAtoi(rest, position) &&
         *position > 0;
}

}  // namespace

std::string EncodePageToken(int64_t after_row_id) {
  return EncodeToken(kPageTokenPrefix, after_row_id);
}

bool DecodePageToken(absl::string_view token, int64_t* after_row_id) {
  return DecodeToken(kPageTokenPrefix, token, after_row_id);
}

std::string EncodeAuditPageToken(int64_t before_id) {
  return EncodeToken(kAuditPageTokenPrefix, before_id);
}

bool DecodeAuditPageToken(absl::string_view token, int64_t* before_id) {
  return DecodeToken(kAuditPageTokenPrefix, token, before_id);
}

}  // namespace linechannel::server
