#include "tools/fake_line/management_api.h"

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tools/fake_line/form.h"
#include "tools/fake_line/json_reader.h"
#include "tools/fake_line/responses.h"
#include "tools/fake_line/rich_menus.h"
#include "tools/fake_line/signature.h"
#include "tools/fake_line/url.h"
#include "tools/fake_line/webhook_body.h"

namespace linechannel::fake_line {
namespace {

constexpr absl::Duration kStatelessTokenLifetime = absl::Minutes(15);

constexpr char kInvalidEndpoint[] = "Invalid webhook endpoint URL";

std::string FormField(const std::map<std::string, std::string>& form, const std::string& key) {
  auto it = form.find(key);
  return it == form.end() ? "" : it->second;
}

}  // namespace

HttpResponse ManagementApi::Handle(const HttpRequest& request) const {
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/oauth2/v3/token") {
    return method == "POST" ? IssueToken(request) : MethodNotAllowed("POST");
  }
  if (path == "/v2/oauth/verify") {
    return method == "POST" ? VerifyToken(request) : MethodNotAllowed("POST");
  }
  if (path == "/v2/bot/info") {
    return method == "GET" ? BotCall(request, "bot_info") : MethodNotAllowed("GET");
  }
  if (path == "/v2/bot/channel/webhook/endpoint") {
    if (method == "GET") return BotCall(request, "get_endpoint");
    if (method == "PUT") return BotCall(request, "set_endpoint");
    return MethodNotAllowed("GET, PUT");
  }
  if (path == "/v2/bot/richmenu/list") {
    return method == "GET" ? BotCall(request, "rich_menu_list") : MethodNotAllowed("GET");
  }
  if (path == "/v2/bot/user/all/richmenu") {
    return method == "GET" ? BotCall(request, "default_rich_menu") : MethodNotAllowed("GET");
  }
  if (path == "/v2/bot/channel/webhook/test") {
    return method == "POST" ? BotCall(request, "test_endpoint") : MethodNotAllowed("POST");
  }
  return BotError(404, "Not found");
}

HttpResponse ManagementApi::IssueToken(const HttpRequest& request) const {
  absl::StatusOr<std::map<std::string, std::string>> form = ParseForm(request.body);
  const std::string client_id = form.ok() ? FormField(*form, "client_id") : "";
  const bool known = !client_id.empty() && registry_->Get(client_id).ok();
  if (auto failure =
          gate_->ApplyFaults(known ? std::optional<std::string>(client_id) : std::nullopt, "token",
                             BotGate::Family::kOAuth)) {
    return *failure;
  }
  if (!form.ok()) return OAuthError(400, "invalid_request", form.status().message());
  const std::string grant_type = FormField(*form, "grant_type");
  const std::string client_secret = FormField(*form, "client_secret");
  if (grant_type.empty()) return OAuthError(400, "invalid_request", "grant_type is required");
  if (grant_type != "client_credentials") {
    return OAuthError(400, "unsupported_grant_type", "grant_type must be client_credentials");
  }
  if (client_id.empty() || client_secret.empty()) {
    return OAuthError(400, "invalid_request", "client_id and client_secret are required");
  }
  absl::StatusOr<ChannelState> state = registry_->Get(client_id);
  if (!state.ok() || state->channel.channel_secret != client_secret) {
    return OAuthError(400, "invalid_client", "invalid client_id or client_secret");
  }
  const std::string token = registry_->IssueStatelessToken(client_id, kStatelessTokenLifetime);
  return JsonResponse(200, JsonObject()
                               .Set("token_type", "Bearer")
                               .Set("access_token", token)
                               .Set("expires_in", absl::ToInt64Seconds(kStatelessTokenLifetime)));
}

HttpResponse ManagementApi::VerifyToken(const HttpRequest& request) const {
  absl::StatusOr<std::map<std::string, std::string>> form = ParseForm(request.body);
  const std::string token = form.ok() ? FormField(*form, "access_token") : "";
  const std::optional<TokenOwner> owner =
      token.empty() ? std::nullopt : registry_->FindToken(token);
  if (auto failure =
          gate_->ApplyFaults(owner ? std::optional<std::string>(owner->channel_id) : std::nullopt,
                             "verify", BotGate::Family::kOAuth)) {
    return *failure;
  }
  if (!form.ok()) return OAuthError(400, "invalid_request", form.status().message());
  if (token.empty()) return OAuthError(400, "invalid_request", "access_token is required");
  if (!owner.has_value()) return OAuthError(400, "invalid_request", "invalid access token");
  if (owner->revoked || owner->expired) {
    return OAuthError(400, "invalid_request", "access token expired");
  }
  const int64_t expires_in =
      std::max<int64_t>(0, absl::ToInt64Seconds(owner->expires - clock_->Now()));
  return JsonResponse(200, JsonObject()
                               .Set("client_id", owner->channel_id)
                               .Set("expires_in", expires_in)
                               .Set("scope", "P CM"));
}

HttpResponse ManagementApi::BotCall(const HttpRequest& request, const char* call_key) const {
  std::variant<ChannelState, HttpResponse> admitted = gate_->Admit(request, call_key);
  if (auto* refusal = std::get_if<HttpResponse>(&admitted)) return std::move(*refusal);
  const ChannelState& state = std::get<ChannelState>(admitted);
  const absl::string_view key = call_key;
  if (key == "bot_info") return BotInfo(state);
  if (key == "set_endpoint") return SetEndpoint(state, request);
  if (key == "get_endpoint") return GetEndpoint(state);
  if (key == "rich_menu_list") return RichMenuListResponse(state.channel);
  if (key == "default_rich_menu") return DefaultRichMenuResponse(state.channel);
  return TestEndpoint(state, request);
}

HttpResponse ManagementApi::BotInfo(const ChannelState& state) const {
  const Channel& channel = state.channel;
  JsonObject body;
  body.Set("userId", channel.bot_user_id)
      .Set("basicId", channel.basic_id)
      .Set("displayName", channel.display_name)
      .Set("chatMode", channel.chat_mode)
      .Set("markAsReadMode", channel.mark_as_read_mode);
  // Both are left out, not empty, when the OA has none: that is what the spec says.
  if (!channel.premium_id.empty()) body.Set("premiumId", channel.premium_id);
  if (!channel.picture_url.empty()) body.Set("pictureUrl", channel.picture_url);
  return JsonResponse(200, body);
}

HttpResponse ManagementApi::SetEndpoint(const ChannelState& state,
                                        const HttpRequest& request) const {
  const std::string& channel_id = state.channel.channel_id;
  if (!registry_->TryAcquire(channel_id, RateLimit::kSetEndpoint)) {
    return BotError(429, kRateLimitMessage);
  }
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::object> body = ParseJsonObject(parser, request.body);
  if (!body.ok()) return BotError(400, kBodyErrorsMessage, body.status().message());
  simdjson::dom::element element;
  if (body->at_key("endpoint").get(element)) {
    return BotError(400, kBodyErrorsMessage, "must be specified", "endpoint");
  }
  absl::StatusOr<std::string> endpoint = JsonString(element, "endpoint");
  if (!endpoint.ok()) return BotError(400, kBodyErrorsMessage, "must be a string", "endpoint");
  if (absl::Status valid = ValidateWebhookUrl(*endpoint); !valid.ok()) {
    return BotError(400, kInvalidEndpoint, valid.message(), "endpoint");
  }
  if (!registry_->SetWebhookEndpoint(channel_id, *endpoint).ok()) {
    return BotError(401, kAuthFailedMessage);
  }
  return JsonResponse(200, JsonObject());
}

HttpResponse ManagementApi::GetEndpoint(const ChannelState& state) const {
  if (state.channel.webhook_endpoint.empty()) return BotError(404, "Not found");
  return JsonResponse(200, JsonObject()
                               .Set("endpoint", state.channel.webhook_endpoint)
                               .Set("active", state.channel.webhook_active));
}

HttpResponse ManagementApi::TestEndpoint(const ChannelState& state,
                                         const HttpRequest& request) const {
  const Channel& channel = state.channel;
  if (!registry_->TryAcquire(channel.channel_id, RateLimit::kTestEndpoint)) {
    return BotError(429, kRateLimitMessage);
  }
  std::string endpoint = channel.webhook_endpoint;
  if (!absl::StripAsciiWhitespace(request.body).empty()) {
    simdjson::dom::parser parser;
    absl::StatusOr<simdjson::dom::object> body = ParseJsonObject(parser, request.body);
    if (!body.ok()) return BotError(400, kBodyErrorsMessage, body.status().message());
    simdjson::dom::element element;
    if (body->at_key("endpoint").get(element) == simdjson::SUCCESS) {
      absl::StatusOr<std::string> given = JsonString(element, "endpoint");
      if (!given.ok()) return BotError(400, kBodyErrorsMessage, "must be a string", "endpoint");
      if (!given->empty()) {
        if (absl::Status valid = ValidateWebhookUrl(*given); !valid.ok()) {
          return BotError(400, kInvalidEndpoint, valid.message(), "endpoint");
        }
        endpoint = *given;
      }
    }
  }
  if (endpoint.empty()) {
    return BotError(400, "The webhook endpoint URL is not set", "set one first or pass it",
                    "endpoint");
  }

  const absl::Time sent_at = clock_->Now();
  const std::string body = BuildWebhookBody(channel.bot_user_id, {});
  const HttpResult result =
      sender_->Send(endpoint, body, SignWebhookBody(channel.channel_secret, body));

  bool success = false;
  std::string reason;
  std::string detail = result.error;
  switch (result.outcome) {
    case HttpResult::Outcome::kResponse:
      success = result.status >= 200 && result.status < 300;
      reason = success ? "OK" : "ERROR_STATUS_CODE";
      detail =
          success ? absl::StrCat(result.status) : absl::StrCat(result.status, " ", result.reason);
      break;
    case HttpResult::Outcome::kCouldNotConnect:
      reason = "COULD_NOT_CONNECT";
      break;
    case HttpResult::Outcome::kTimeout:
      reason = "REQUEST_TIMEOUT";
      break;
    case HttpResult::Outcome::kTlsFailure:
    case HttpResult::Outcome::kFailed:
      reason = "UNCLASSIFIED";
      break;
  }
  return JsonResponse(200, JsonObject()
                               .Set("success", success)
                               .Set("timestamp", FormatRfc3339Millis(sent_at))
                               .Set("statusCode", result.status)
                               .Set("reason", reason)
                               .Set("detail", detail));
}

}  // namespace linechannel::fake_line
