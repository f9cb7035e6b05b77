// CurlLineApi's LineMessagingApi calls (the management calls are in curl_line_api.cc).

#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/base/errors.h"
#include "server/base/json_writer.h"
#include "server/line/curl_line_api.h"
#include "server/line/line_answer.h"
#include "simdjson.h"

namespace linechannel::server {
namespace {

using Outcome = CurlExchange::Outcome;
using Response = CurlExchange::Response;

// LINE answers 202 for content it is still processing; it gives no hint of how long.
constexpr absl::Duration kContentNotReadyDelay = absl::Seconds(5);
constexpr absl::Duration kDefaultRateLimitDelay = absl::Seconds(1);

// Which call an answer belongs to, for the answers whose meaning depends on it.
enum class Call { kReply, kPush, kProfile, kQuota, kMarkAsRead, kLoading, kContent };

// The status of an exchange that ended without an answer. What matters to callers is whether
// LINE may have acted: only a request that never went out is known not to have reached it.
absl::Status FailureStatus(const Outcome& outcome, absl::string_view call) {
  if (outcome.no_time_left) {
    return ReasonedError(absl::StatusCode::kDeadlineExceeded, reason::kDeadlineExceeded,
                         absl::StrCat("no time left to call LINE ", call, " before the deadline"));
  }
  if (outcome.stopped) {
    return ReasonedError(absl::StatusCode::kCancelled, reason::kCancelled,
                         absl::StrCat("LINE ", call, " was stopped by its receiver",
                                      RequestIdSuffix(outcome.response)));
  }
  if (!outcome.sent) {
    return ReasonedError(absl::StatusCode::kUnavailable, reason::kLineUnavailable,
                         absl::StrCat("LINE ", call, " could not be reached (", outcome.error,
                                      "); the request was not sent"));
  }
  const std::string what =
      outcome.timed_out
          ? (outcome.deadline_cut ? "did not answer before the deadline" : "did not answer in time")
          : absl::StrCat("failed after the request was sent (", outcome.error, ")");
  return ReasonedError(absl::StatusCode::kUnknown, reason::kOutcomeUnknown,
                       absl::StrCat("LINE ", call, " ", what, RequestIdSuffix(outcome.response),
                                    "; LINE may have acted on it"));
}

// LINE's message and its first detail, the parts of an error body we quote.
std::string SaidBy(const LineErrorBody& error) {
  std::string said = error.message;
  if (!error.details.empty()) {
    const auto& [property, message] = error.details.front();
    absl::StrAppend(&said, said.empty() ? "" : "; ", property, property.empty() ? "" : ": ",
                    message);
  }
  return Quotable(std::move(said));
}

// Whether LINE's 400 is about the request property `name`: a detail names it, or the message
// quotes it ("The property, 'to', in the request body is invalid").
bool AboutProperty(const LineErrorBody& error, absl::string_view name) {
  for (const auto& detail : error.details) {
    if (detail.first == name) return true;
  }
  return absl::StrContains(error.message, absl::StrCat("'", name, "'"));
}

// Retry-After in seconds; LINE sends a number, anything else counts as none.
absl::Duration RetryDelay(const Response& response) {
  int64_t seconds = 0;
  if (absl::SimpleAtoi(response.retry_after, &seconds) && seconds >= 0) {
    return absl::Seconds(seconds);
  }
  return kDefaultRateLimitDelay;
}

// The status for an answer that is not the call's success (header table in
// line_messaging_api.h).
absl::Status AnswerStatus(const Response& response, absl::string_view call, Call kind) {
  const LineErrorBody error = ParseLineError(response.body);
  const std::string message = AnswerMessage(response, call, SaidBy(error));
  using Code = absl::StatusCode;
  switch (response.status) {
    case 400:
      if (kind == Call::kReply && absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(error.message),
                                                         "Invalid reply token")) {
        return ReasonedError(Code::kInvalidArgument, reason::kReplyTokenInvalid, message);
      }
      if (kind == Call::kMarkAsRead &&
          (AboutProperty(error, "markAsReadToken") ||
           absl::StrContains(absl::AsciiStrToLower(error.message), "markasread"))) {
        return ReasonedError(Code::kInvalidArgument, reason::kMarkAsReadTokenInvalid, message);
      }
      if (kind == Call::kPush && (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(error.message),
                                                         "Failed to send messages") ||
                                  AboutProperty(error, "to"))) {
        return ReasonedError(Code::kFailedPrecondition, reason::kRecipientUnavailable, message);
      }
      return ReasonedError(Code::kInvalidArgument, reason::kLineRefusedRequest, message);
    case 401:
      return ReasonedError(Code::kUnauthenticated, reason::kTokenRejected, message);
    case 403:
      return ReasonedError(Code::kPermissionDenied, reason::kLineRefusedRequest, message);
    case 404:
      if (kind == Call::kProfile) {
        return ReasonedError(Code::kNotFound, reason::kProfileNotFound, message);
      }
      if (kind == Call::kContent) {
        return ReasonedError(Code::kNotFound, reason::kContentNotFound, message);
      }
      return ReasonedError(Code::kInvalidArgument, reason::kLineRefusedRequest, message);
    case 409:
      // LINE's 409 names the accepted request (x-line-accepted-request-id); without it we cannot
      // tell what LINE did with the push.
      return ReasonedError(Code::kUnknown, reason::kOutcomeUnknown,
                           absl::StrCat(message, "; LINE may have acted on it"));
    case 429:
      if (absl::StartsWithIgnoreCase(absl::StripAsciiWhitespace(error.message),
                                     "You have reached your monthly limit")) {
        return ReasonedError(Code::kFailedPrecondition, reason::kMonthlyQuotaExhausted, message);
      }
      return WithRetryDelay(
          ReasonedError(Code::kResourceExhausted, reason::kLineRateLimited,
                        absl::StrCat(message, "; retry after ",
                                     absl::ToInt64Seconds(RetryDelay(response)), " s")),
          RetryDelay(response));
  }
  if (response.status >= 400 && response.status < 500) {
    return ReasonedError(Code::kInvalidArgument, reason::kLineRefusedRequest, message);
  }
  // 5xx, and answers no LINE call gives (1xx, 3xx, an unexpected 2xx).
  return ReasonedError(Code::kUnknown, reason::kOutcomeUnknown,
                       absl::StrCat(message, "; LINE may have acted on it"));
}

absl::Status Unparseable(const Response& response, absl::string_view call) {
  return ReasonedError(absl::StatusCode::kUnknown, reason::kOutcomeUnknown,
                       absl::StrCat("LINE ", call, " answered with a body we cannot read",
                                    RequestIdSuffix(response), "; LINE may have acted on it"));
}

// The answer of one exchange with status `success`, or the status that anything else means.
absl::StatusOr<Response> Answer(Outcome outcome, absl::string_view call, Call kind, long success) {
  if (!outcome.answered()) return FailureStatus(outcome, call);
  if (outcome.response.status != success) return AnswerStatus(outcome.response, call, kind);
  return std::move(outcome.response);
}

// The answer's JSON object; an answer that is not one is an error.
absl::StatusOr<std::unique_ptr<JsonAnswer>> JsonObject(Response response, absl::string_view call) {
  std::unique_ptr<JsonAnswer> answer = ParseJsonAnswer(std::move(response));
  if (!answer->parsed || !answer->doc.is_object()) return Unparseable(answer->response, call);
  return answer;
}

std::string StringOr(simdjson::dom::element doc, std::string_view key, std::string fallback) {
  std::string_view value;
  if (doc[key].get_string().get(value) != simdjson::SUCCESS) return fallback;
  return std::string(value);
}

// `sentMessages` of a reply or push answer; LINE's older answers were `{}`.
std::vector<LineSentMessage> SentMessages(simdjson::dom::element doc) {
  std::vector<LineSentMessage> sent;
  simdjson::dom::array messages;
  if (doc["sentMessages"].get_array().get(messages) != simdjson::SUCCESS) return sent;
  for (simdjson::dom::element message : messages) {
    sent.push_back(
        LineSentMessage{StringOr(message, "id", ""), StringOr(message, "quoteToken", "")});
  }
  return sent;
}

absl::StatusOr<LineSendResult> SendResult(Response response, absl::string_view call) {
  auto answer = JsonObject(std::move(response), call);
  if (!answer.ok()) return answer.status();
  LineSendResult result;
  result.sent_messages = SentMessages((*answer)->doc);
  result.request_id = (*answer)->response.request_id;
  return result;
}

// A 409 to a push with a retry key: LINE accepted the key before and sent nothing again. Its
// body may list what the accepted push sent.
LineSendResult AlreadyAccepted(Response response) {
  LineSendResult result;
  result.already_accepted = true;
  result.request_id = response.accepted_request_id;
  std::unique_ptr<JsonAnswer> answer = ParseJsonAnswer(std::move(response));
  if (answer->parsed) result.sent_messages = SentMessages(answer->doc);
  return result;
}

std::string SendJson(absl::string_view key, absl::string_view value,
                     const std::string& messages_json, bool notification_disabled) {
  return JsonObjectWriter()
      .String(key, value)
      .Raw("messages", messages_json)
      .Bool("notificationDisabled", notification_disabled)
      .Finish();
}

// A retry key goes into a header line, so it must not be able to break one.
bool IsUuidText(const std::string& key) {
  if (key.empty()) return false;
  for (const char c : key) {
    if (!absl::ascii_isxdigit(c) && c != '-') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<LineSendResult> CurlLineApi::Reply(const Secret& access_token,
                                                  const std::string& reply_token,
                                                  const std::string& messages_json,
                                                  bool notification_disabled, absl::Time deadline) {
  CurlExchange::Request request{
      "POST",
      options_.base_url + "/v2/bot/message/reply",
      {},
      &access_token,
      SendJson("replyToken", reply_token, messages_json, notification_disabled)};
  const absl::string_view call = "reply";
  auto response = Answer(exchange_.Perform(request, deadline), call, Call::kReply, 200);
  if (!response.ok()) return response.status();
  return SendResult(*std::move(response), call);
}

absl::StatusOr<LineSendResult> CurlLineApi::Push(const Secret& access_token, const std::string& to,
                                                 const std::string& messages_json,
                                                 bool notification_disabled,
                                                 const std::string& retry_key,
                                                 absl::Time deadline) {
  if (!IsUuidText(retry_key)) {
    return InvalidFieldsError({{"retry_key", "must be a UUID in hex form"}});
  }
  CurlExchange::Request request{"POST",
                                options_.base_url + "/v2/bot/message/push",
                                {},
                                &access_token,
                                SendJson("to", to, messages_json, notification_disabled),
                                {absl::StrCat("X-Line-Retry-Key: ", retry_key)}};
  const absl::string_view call = "push";
  Outcome outcome = exchange_.Perform(request, deadline);
  if (outcome.answered() && outcome.response.status == 409 &&
      !outcome.response.accepted_request_id.empty()) {
    return AlreadyAccepted(std::move(outcome.response));
  }
  auto response = Answer(std::move(outcome), call, Call::kPush, 200);
  if (!response.ok()) return response.status();
  return SendResult(*std::move(response), call);
}

absl::StatusOr<LineProfile> CurlLineApi::GetProfile(const Secret& access_token,
                                                    const std::string& user_id,
                                                    const std::string& group_or_room_id,
                                                    absl::Time deadline) {
  std::string path;
  if (group_or_room_id.empty()) {
    path = absl::StrCat("/v2/bot/profile/", CurlExchange::Escape(user_id));
  } else if (group_or_room_id[0] == 'C' || group_or_room_id[0] == 'R') {
    path = absl::StrCat("/v2/bot/", group_or_room_id[0] == 'C' ? "group/" : "room/",
                        CurlExchange::Escape(group_or_room_id), "/member/",
                        CurlExchange::Escape(user_id));
  } else {
    return InvalidFieldsError(
        {{"group_or_room_id", "must be a group id (C...) or a room id (R...)"}});
  }
  CurlExchange::Request request{"GET", options_.base_url + path, {}, &access_token};
  const absl::string_view call = "get profile";
  auto response = Answer(exchange_.Perform(request, deadline), call, Call::kProfile, 200);
  if (!response.ok()) return response.status();
  auto answer = JsonObject(*std::move(response), call);
  if (!answer.ok()) return answer.status();
  const simdjson::dom::element doc = (*answer)->doc;
  LineProfile profile;
  std::string_view display_name;
  if (doc["displayName"].get_string().get(display_name) != simdjson::SUCCESS) {
    return Unparseable((*answer)->response, call);
  }
  profile.display_name = std::string(display_name);
  profile.user_id = StringOr(doc, "userId", user_id);
  profile.picture_url = StringOr(doc, "pictureUrl", "");
  profile.status_message = StringOr(doc, "statusMessage", "");
  profile.language = StringOr(doc, "language", "");
  return profile;
}

absl::StatusOr<LineQuota> CurlLineApi::GetQuota(const Secret& access_token, absl::Time deadline) {
  LineQuota quota;
  {
    CurlExchange::Request request{
        "GET", options_.base_url + "/v2/bot/message/quota", {}, &access_token};
    const absl::string_view call = "get quota";
    auto response = Answer(exchange_.Perform(request, deadline), call, Call::kQuota, 200);
    if (!response.ok()) return response.status();
    auto answer = JsonObject(*std::move(response), call);
    if (!answer.ok()) return answer.status();
    const std::string type = StringOr((*answer)->doc, "type", "");
    quota.limited = type == "limited";
    if ((type != "none" && !quota.limited) ||
        (quota.limited &&
         (*answer)->doc["value"].get_int64().get(quota.limit) != simdjson::SUCCESS)) {
      return Unparseable((*answer)->response, call);
    }
  }
  CurlExchange::Request request{
      "GET", options_.base_url + "/v2/bot/message/quota/consumption", {}, &access_token};
  const absl::string_view call = "get quota consumption";
  auto response = Answer(exchange_.Perform(request, deadline), call, Call::kQuota, 200);
  if (!response.ok()) return response.status();
  auto answer = JsonObject(*std::move(response), call);
  if (!answer.ok()) return answer.status();
  if ((*answer)->doc["totalUsage"].get_int64().get(quota.used) != simdjson::SUCCESS) {
    return Unparseable((*answer)->response, call);
  }
  return quota;
}

absl::Status CurlLineApi::MarkAsRead(const Secret& access_token,
                                     const std::string& mark_as_read_token, absl::Time deadline) {
  CurlExchange::Request request{
      "POST",
      options_.base_url + "/v2/bot/chat/markAsRead",
      {},
      &access_token,
      JsonObjectWriter().String("markAsReadToken", mark_as_read_token).Finish()};
  return Answer(exchange_.Perform(request, deadline), "mark as read", Call::kMarkAsRead, 200)
      .status();
}

absl::Status CurlLineApi::ShowLoadingAnimation(const Secret& access_token,
                                               const std::string& chat_id, int loading_seconds,
                                               absl::Time deadline) {
  CurlExchange::Request request{
      "POST",
      options_.base_url + "/v2/bot/chat/loading/start",
      {},
      &access_token,
      JsonObjectWriter().String("chatId", chat_id).Int("loadingSeconds", loading_seconds).Finish()};
  return Answer(exchange_.Perform(request, deadline), "show loading animation", Call::kLoading, 202)
      .status();
}

absl::Status CurlLineApi::GetContent(const Secret& access_token, const std::string& message_id,
                                     const ContentSink& sink, absl::Time deadline) {
  const std::string& host =
      options_.data_base_url.empty() ? options_.base_url : options_.data_base_url;
  // Only a 200's body reaches the sink; error bodies are collected as for any call.
  const CurlExchange::BodySink body{
      [&sink](const Response& head) {
        return !sink.head || sink.head(LineContentHead{head.content_type, head.content_length});
      },
      [&sink](absl::string_view chunk) { return !sink.chunk || sink.chunk(chunk); }};
  CurlExchange::Request request{
      "GET",
      absl::StrCat(host, "/v2/bot/message/", CurlExchange::Escape(message_id), "/content"),
      {},
      &access_token};
  request.sink = &body;
  // A large file may take longer than one call's timeout: the caller's deadline bounds it.
  request.until_deadline = true;
  const absl::string_view call = "get content";
  Outcome outcome = exchange_.Perform(request, deadline);
  if (outcome.answered() && outcome.response.status == 202) {
    return WithRetryDelay(
        ReasonedError(absl::StatusCode::kFailedPrecondition, reason::kContentNotReady,
                      absl::StrCat("LINE is still processing the content of message ", message_id,
                                   RequestIdSuffix(outcome.response))),
        kContentNotReadyDelay);
  }
  return Answer(std::move(outcome), call, Call::kContent, 200).status();
}

}  // namespace linechannel::server
