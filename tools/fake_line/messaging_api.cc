#include "tools/fake_line/messaging_api.h"

#include <simdjson.h>

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tools/fake_line/json_reader.h"
#include "tools/fake_line/message_checks.h"
#include "tools/fake_line/random_ids.h"
#include "tools/fake_line/responses.h"
#include "tools/fake_line/webhook_body.h"

namespace linechannel::fake_line {
namespace {

constexpr char kInvalidReplyToken[] = "Invalid reply token";
constexpr char kFailedToSend[] = "Failed to send messages";
constexpr char kMonthlyLimit[] = "You have reached your monthly limit.";
constexpr char kRetryKeyAccepted[] = "The retry key is already accepted";
constexpr char kInvalidRetryKey[] = "The value of the X-Line-Retry-Key header is invalid";
constexpr char kRetryKeyNotSupported[] = "X-Line-Retry-Key is not supported by this API";
constexpr char kInvalidReadToken[] = "Invalid markAsReadToken";
constexpr int64_t kDefaultLoadingSeconds = 20;

// LINE's answer when a property holds a value it cannot use (a malformed id).
HttpResponse InvalidProperty(absl::string_view property) {
  return BotError(400, absl::StrCat("The property, '", property,
                                    "', in the request body is invalid (line: -, column: -)"));
}

HttpResponse BodyError(absl::string_view detail, absl::string_view property) {
  return BotError(400, kBodyErrorsMessage, detail, property);
}

// Ids for the message objects of an accepted request; quotable types get a quote token.
std::vector<SentMessageId> NewSentMessages(simdjson::dom::array messages) {
  std::vector<SentMessageId> sent;
  for (simdjson::dom::element message : messages) {
    // CheckMessages has made sure every message has a string type.
    std::string_view type = message.at_key("type").get_string().value_unsafe();
    const bool quotable = type == "text" || type == "textV2" || type == "sticker" ||
                          type == "image" || type == "video";
    sent.push_back(SentMessageId{RandomDigits(18), quotable ? RandomToken(48) : ""});
  }
  return sent;
}

JsonArray SentMessagesJson(const std::vector<SentMessageId>& sent) {
  JsonArray array;
  for (const SentMessageId& message : sent) {
    JsonObject item;
    item.Set("id", message.id);
    if (!message.quote_token.empty()) item.Set("quoteToken", message.quote_token);
    array.Add(item);
  }
  return array;
}

// The parts of a reply or push body both need: the messages (checked) and the switch.
struct Outgoing {
  simdjson::dom::array messages;
  std::string messages_json;
  bool notification_disabled = false;
};

// Reads `messages` and `notificationDisabled` from a parsed body; the 400 answer on a problem.
std::variant<Outgoing, HttpResponse> ReadOutgoing(simdjson::dom::object body,
                                                  const std::string& raw_body) {
  Outgoing outgoing;
  simdjson::dom::element messages;
  if (body.at_key("messages").get(messages)) return BodyError("must be specified", "messages");
  if (std::optional<BodyProblem> problem = CheckMessages(messages)) {
    return BodyError(problem->detail, problem->property);
  }
  outgoing.messages = messages.get_array().value_unsafe();  // Checked to be an array above.
  absl::StatusOr<std::string> raw = RawMember(raw_body, "messages");
  outgoing.messages_json = raw.ok() ? *std::move(raw) : "[]";
  simdjson::dom::element flag;
  if (body.at_key("notificationDisabled").get(flag) == simdjson::SUCCESS) {
    if (flag.get_bool().get(outgoing.notification_disabled)) {
      return BodyError("must be a boolean", "notificationDisabled");
    }
  }
  return outgoing;
}

// A string member of `body`: the 400 answer when it is missing or not a string.
std::variant<std::string, HttpResponse> RequiredString(simdjson::dom::object body,
                                                       const char* key) {
  simdjson::dom::element element;
  if (body.at_key(key).get(element)) return BodyError("must be specified", key);
  std::string_view value;
  if (element.get_string().get(value)) return BodyError("must be a string", key);
  return std::string(value);
}

// The request body as a JSON object, or LINE's 400 answer.
std::variant<simdjson::dom::object, HttpResponse> ParseBody(simdjson::dom::parser& parser,
                                                            const HttpRequest& request) {
  absl::StatusOr<simdjson::dom::object> body = ParseJsonObject(parser, request.body);
  if (!body.ok()) return BotError(400, kBodyErrorsMessage, body.status().message());
  return *body;
}

// The record of a call that sends no messages (markAsRead, loading).
SentRecord ChatCallRecord(const char* kind, std::string to, const HttpRequest& request) {
  SentRecord record;
  record.kind = kind;
  record.to = std::move(to);
  record.request_id = request.request_id;
  return record;
}

}  // namespace

std::optional<HttpResponse> MessagingApi::Handle(const HttpRequest& request) const {
  using Handler = HttpResponse (MessagingApi::*)(const ChannelState&, const HttpRequest&) const;
  struct Route {
    const char* path;
    const char* method;
    const char* call_key;
    Handler handler;
  };
  static const Route kRoutes[] = {
      {"/v2/bot/message/reply", "POST", "reply", &MessagingApi::Reply},
      {"/v2/bot/message/push", "POST", "push", &MessagingApi::Push},
      {"/v2/bot/chat/markAsRead", "POST", "mark_as_read", &MessagingApi::MarkAsReadByToken},
      {"/v2/bot/message/markAsRead", "POST", "mark_as_read", &MessagingApi::MarkAsRead},
      {"/v2/bot/chat/loading/start", "POST", "loading", &MessagingApi::Loading},
  };
  for (const Route& route : kRoutes) {
    if (request.path != route.path) continue;
    if (request.method != route.method) return MethodNotAllowed(route.method);
    return gate_->Serve(request, route.call_key, [&](const ChannelState& state) {
      return (this->*route.handler)(state, request);
    });
  }
  if (request.path == "/v2/bot/message/quota" ||
      request.path == "/v2/bot/message/quota/consumption") {
    if (request.method != "GET") return MethodNotAllowed("GET");
    const bool consumption = request.path.size() > sizeof("/v2/bot/message/quota") - 1;
    return gate_->Serve(request, consumption ? "quota_consumption" : "quota",
                        [&](const ChannelState& state) {
                          return consumption ? QuotaConsumption(state) : Quota(state);
                        });
  }
  return std::nullopt;
}

std::optional<HttpResponse> MessagingApi::Precheck(const ChannelState& state,
                                                   const HttpRequest& request,
                                                   bool retry_key_allowed) const {
  if (!stores_.outbox->TryAcquireRate(state.channel.channel_id)) {
    return BotError(429, kRateLimitMessage);
  }
  const std::string retry_key = request.Header("x-line-retry-key");
  if (!retry_key_allowed && !retry_key.empty()) return BotError(400, kRetryKeyNotSupported);
  if (!retry_key.empty() && !IsRetryKey(retry_key)) return BotError(400, kInvalidRetryKey);
  return std::nullopt;
}

std::variant<simdjson::dom::object, HttpResponse> MessagingApi::Admit(
    const ChannelState& state, const HttpRequest& request, bool retry_key_allowed,
    simdjson::dom::parser& parser) const {
  if (auto refusal = Precheck(state, request, retry_key_allowed)) return *std::move(refusal);
  return ParseBody(parser, request);
}

bool MessagingApi::CanReach(const ChannelState& state, const std::string& to) const {
  const std::string& channel_id = state.channel.channel_id;
  if (to[0] != 'U') return stores_.audience->HasChat(channel_id, to);
  std::optional<UserProfile> user = stores_.audience->FindUser(channel_id, to);
  return user.has_value() && !user->blocked;
}

HttpResponse MessagingApi::Reply(const ChannelState& state, const HttpRequest& request) const {
  simdjson::dom::parser parser;
  std::variant<simdjson::dom::object, HttpResponse> parsed = Admit(state, request, false, parser);
  if (auto* refusal = std::get_if<HttpResponse>(&parsed)) return std::move(*refusal);
  simdjson::dom::object* body = &std::get<simdjson::dom::object>(parsed);
  std::variant<std::string, HttpResponse> token = RequiredString(*body, "replyToken");
  if (auto* refusal = std::get_if<HttpResponse>(&token)) return std::move(*refusal);
  std::variant<Outgoing, HttpResponse> outgoing = ReadOutgoing(*body, request.body);
  if (auto* refusal = std::get_if<HttpResponse>(&outgoing)) return std::move(*refusal);
  Outgoing& out = std::get<Outgoing>(outgoing);

  SentRecord record;
  record.kind = "reply";
  record.messages_json = out.messages_json;
  record.sent_messages = NewSentMessages(out.messages);
  record.notification_disabled = out.notification_disabled;
  record.request_id = request.request_id;
  const std::vector<SentMessageId> sent = record.sent_messages;
  // Replies are free: they never count against the monthly quota.
  if (!stores_.outbox
           ->Reply(state.channel.channel_id, std::get<std::string>(token), std::move(record))
           .ok()) {
    return BotError(400, kInvalidReplyToken);
  }
  return JsonResponse(200, JsonObject().Set("sentMessages", SentMessagesJson(sent)));
}

HttpResponse MessagingApi::Push(const ChannelState& state, const HttpRequest& request) const {
  simdjson::dom::parser parser;
  std::variant<simdjson::dom::object, HttpResponse> parsed = Admit(state, request, true, parser);
  if (auto* refusal = std::get_if<HttpResponse>(&parsed)) return std::move(*refusal);
  const std::string retry_key = request.Header("x-line-retry-key");
  simdjson::dom::object* body = &std::get<simdjson::dom::object>(parsed);
  std::variant<std::string, HttpResponse> to = RequiredString(*body, "to");
  if (auto* refusal = std::get_if<HttpResponse>(&to)) return std::move(*refusal);
  const std::string& recipient = std::get<std::string>(to);
  if (!IsChatId(recipient)) return InvalidProperty("to");
  std::variant<Outgoing, HttpResponse> outgoing = ReadOutgoing(*body, request.body);
  if (auto* refusal = std::get_if<HttpResponse>(&outgoing)) return std::move(*refusal);
  Outgoing& out = std::get<Outgoing>(outgoing);
  if (!CanReach(state, recipient)) {
    return BotError(400, kFailedToSend,
                    "The user hasn't added the LINE Official Account or has blocked it", "to");
  }

  SentRecord record;
  record.kind = "push";
  record.to = recipient;
  record.messages_json = out.messages_json;
  record.sent_messages = NewSentMessages(out.messages);
  record.notification_disabled = out.notification_disabled;
  record.retry_key = retry_key;
  record.request_id = request.request_id;
  const std::vector<SentMessageId> sent = record.sent_messages;
  // LINE counts a push by its recipients, not by its message objects.
  const PushOutcome outcome = stores_.outbox->Push(state.channel.channel_id, std::move(record), 1);
  switch (outcome.result) {
    case PushOutcome::Result::kAccepted:
      return JsonResponse(200, JsonObject().Set("sentMessages", SentMessagesJson(sent)));
    case PushOutcome::Result::kOverQuota:
      return BotError(429, kMonthlyLimit);
    case PushOutcome::Result::kDuplicate: {
      HttpResponse response =
          JsonResponse(409, JsonObject()
                                .Set("message", kRetryKeyAccepted)
                                .Set("sentMessages", SentMessagesJson(outcome.accepted_messages)));
      response.headers.emplace_back("x-line-accepted-request-id", outcome.accepted_request_id);
      return response;
    }
  }
  return BotError(500, "Internal server error");
}

HttpResponse MessagingApi::Quota(const ChannelState& state) const {
  const int64_t quota = stores_.outbox->settings(state.channel.channel_id).message_quota;
  if (quota < 0) return JsonResponse(200, JsonObject().Set("type", "none"));
  return JsonResponse(200, JsonObject().Set("type", "limited").Set("value", quota));
}

HttpResponse MessagingApi::QuotaConsumption(const ChannelState& state) const {
  return JsonResponse(
      200, JsonObject().Set("totalUsage", stores_.outbox->QuotaUsage(state.channel.channel_id)));
}

HttpResponse MessagingApi::MarkAsReadByToken(const ChannelState& state,
                                             const HttpRequest& request) const {
  simdjson::dom::parser parser;
  std::variant<simdjson::dom::object, HttpResponse> parsed = Admit(state, request, false, parser);
  if (auto* refusal = std::get_if<HttpResponse>(&parsed)) return std::move(*refusal);
  simdjson::dom::object* body = &std::get<simdjson::dom::object>(parsed);
  std::variant<std::string, HttpResponse> token = RequiredString(*body, "markAsReadToken");
  if (auto* refusal = std::get_if<HttpResponse>(&token)) return std::move(*refusal);
  std::optional<std::string> user =
      stores_.outbox->FindReadToken(state.channel.channel_id, std::get<std::string>(token));
  if (!user.has_value()) return BotError(400, kInvalidReadToken);
  stores_.outbox->Record(state.channel.channel_id, ChatCallRecord("markAsRead", *user, request));
  return JsonResponse(200, JsonObject());
}

HttpResponse MessagingApi::MarkAsRead(const ChannelState& state, const HttpRequest& request) const {
  simdjson::dom::parser parser;
  std::variant<simdjson::dom::object, HttpResponse> parsed = Admit(state, request, false, parser);
  if (auto* refusal = std::get_if<HttpResponse>(&parsed)) return std::move(*refusal);
  simdjson::dom::object* body = &std::get<simdjson::dom::object>(parsed);
  simdjson::dom::element chat;
  if (body->at_key("chat").get(chat) || !chat.is_object()) {
    return BodyError("must be specified", "chat");
  }
  std::string_view user_id;
  if (chat.at_key("userId").get_string().get(user_id)) {
    return BodyError("must be specified", "chat.userId");
  }
  const std::string user(user_id);
  if (!IsChatId(user) || user[0] != 'U' || !CanReach(state, user)) {
    return InvalidProperty("chat.userId");
  }
  stores_.outbox->Record(state.channel.channel_id, ChatCallRecord("markAsRead", user, request));
  return JsonResponse(200, JsonObject());
}

HttpResponse MessagingApi::Loading(const ChannelState& state, const HttpRequest& request) const {
  simdjson::dom::parser parser;
  std::variant<simdjson::dom::object, HttpResponse> parsed = Admit(state, request, false, parser);
  if (auto* refusal = std::get_if<HttpResponse>(&parsed)) return std::move(*refusal);
  simdjson::dom::object* body = &std::get<simdjson::dom::object>(parsed);
  std::variant<std::string, HttpResponse> chat_id = RequiredString(*body, "chatId");
  if (auto* refusal = std::get_if<HttpResponse>(&chat_id)) return std::move(*refusal);
  const std::string& user = std::get<std::string>(chat_id);
  // Only one-on-one chats show a loading animation.
  if (!IsChatId(user) || user[0] != 'U' || !CanReach(state, user)) {
    return InvalidProperty("chatId");
  }
  int64_t seconds = kDefaultLoadingSeconds;
  simdjson::dom::element element;
  if (body->at_key("loadingSeconds").get(element) == simdjson::SUCCESS) {
    absl::StatusOr<int64_t> given = JsonInt(element, "loadingSeconds");
    if (!given.ok() || *given < 5 || *given > 60 || *given % 5 != 0) {
      return BodyError("must be a multiple of 5 between 5 and 60", "loadingSeconds");
    }
    seconds = *given;
  }
  SentRecord record = ChatCallRecord("loading", user, request);
  record.loading_seconds = seconds;
  stores_.outbox->Record(state.channel.channel_id, std::move(record));
  return JsonResponse(202, JsonObject());
}

}  // namespace linechannel::fake_line
