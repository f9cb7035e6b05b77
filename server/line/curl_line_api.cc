#include "server/line/curl_line_api.h"

#include <memory>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "server/base/json_writer.h"
#include "server/line/line_answer.h"
#include "simdjson.h"

namespace linechannel::server {
namespace {

using Response = CurlExchange::Response;

// LINE's words from an error body, every part of it.
std::string LineErrorText(const std::string& body) {
  const LineErrorBody error = ParseLineError(body);
  std::string text;
  for (const std::string* part : {&error.error, &error.error_description, &error.message}) {
    if (!part->empty()) absl::StrAppend(&text, text.empty() ? "" : ": ", *part);
  }
  for (const auto& [property, message] : error.details) {
    absl::StrAppend(&text, "; ", property, property.empty() ? "" : ": ", message);
  }
  return Quotable(std::move(text));
}

// The status for a non-2xx answer. `rejected` is the code for a 400, which means "these
// credentials are wrong" on some calls and "bad request" on others.
absl::Status StatusForAnswer(const Response& response, absl::string_view call,
                             absl::StatusCode rejected) {
  const std::string message = AnswerMessage(response, call, LineErrorText(response.body));
  if (response.status == 429) {
    return absl::ResourceExhaustedError(
        absl::StrCat(message, response.retry_after.empty()
                                  ? ""
                                  : absl::StrCat("; retry after ", response.retry_after, " s")));
  }
  if (response.status >= 500) return absl::UnavailableError(message);
  switch (response.status) {
    case 400:
      return absl::Status(rejected, message);
    case 401:
      return absl::UnauthenticatedError(message);
    case 403:
      return absl::PermissionDeniedError(message);
    case 404:
      return absl::NotFoundError(message);
    default:
      return absl::InvalidArgumentError(message);
  }
}

absl::Status Unparseable(const Response& response, absl::string_view call) {
  return absl::UnavailableError(absl::StrCat("LINE ", call, " answered with a body we cannot read",
                                             RequestIdSuffix(response)));
}

// The answer to `call` parsed; any status but 200 is the error that status means (`refused`:
// the code for LINE refusing what we sent), and so is a body that is not JSON.
absl::StatusOr<std::unique_ptr<JsonAnswer>> ReadJson(absl::StatusOr<Response> response,
                                                     absl::string_view call,
                                                     absl::StatusCode refused) {
  if (!response.ok()) return response.status();
  if (response->status != 200) return StatusForAnswer(*response, call, refused);
  std::unique_ptr<JsonAnswer> answer = ParseJsonAnswer(*std::move(response));
  if (!answer->parsed) return Unparseable(answer->response, call);
  return answer;
}

}  // namespace

CurlLineApi::CurlLineApi(Options options)
    : options_(std::move(options)),
      exchange_(
          CurlExchange::Options{options_.timeout, options_.connect_timeout, options_.ca_file}) {}

CurlLineApi::~CurlLineApi() = default;

absl::StatusOr<CurlExchange::Response> CurlLineApi::Perform(CurlExchange::Request request,
                                                            absl::Time deadline) {
  // The management calls give a path on base_url in `request.url`.
  const std::string call = absl::StrCat(request.method, " ", request.url);
  request.url = options_.base_url + request.url;
  CurlExchange::Outcome outcome = exchange_.Perform(request, deadline);
  if (outcome.no_time_left) {
    return absl::DeadlineExceededError(
        absl::StrCat("no time left to call LINE ", call, " before the deadline"));
  }
  if (outcome.timed_out && outcome.deadline_cut) {
    return absl::DeadlineExceededError(
        absl::StrCat("LINE ", call, " did not answer before the deadline"));
  }
  if (!outcome.answered()) {
    return absl::UnavailableError(absl::StrCat("LINE ", call, " failed: ", outcome.error));
  }
  return std::move(outcome.response);
}

absl::Status CurlLineApi::CheckChannelSecret(const std::string& channel_id,
                                             const Secret& channel_secret, absl::Time deadline) {
  CurlExchange::Request request{"POST", "/oauth2/v3/token"};
  request.form.emplace_back("grant_type", Secret("client_credentials"));
  request.form.emplace_back("client_id", Secret(channel_id));
  request.form.emplace_back("client_secret", channel_secret);
  const absl::string_view call = "issue stateless token";
  // Any 400 here means the pair is wrong: the only inputs are the id and the secret.
  auto answer = ReadJson(Perform(request, deadline), call, absl::StatusCode::kUnauthenticated);
  if (!answer.ok()) return answer.status();
  const simdjson::dom::element doc = (*answer)->doc;
  std::string_view token;
  if (doc["access_token"].get_string().get(token) != simdjson::SUCCESS || token.empty()) {
    return Unparseable((*answer)->response, call);
  }
  // The token itself is of no use to us: issuing it was the proof. It expires in 15 minutes.
  return absl::OkStatus();
}

absl::StatusOr<LineTokenInfo> CurlLineApi::VerifyAccessToken(const Secret& access_token,
                                                             absl::Time deadline) {
  CurlExchange::Request request{"POST", "/v2/oauth/verify"};
  request.form.emplace_back("access_token", access_token);
  const absl::string_view call = "verify access token";
  // 400 is how LINE says "invalid or expired token".
  auto answer = ReadJson(Perform(request, deadline), call, absl::StatusCode::kUnauthenticated);
  if (!answer.ok()) return answer.status();
  const simdjson::dom::element doc = (*answer)->doc;
  LineTokenInfo info;
  std::string_view client_id;
  // LINE documents client_id as a string; accept a number too rather than fail on a quirk.
  uint64_t numeric_id = 0;
  if (doc["client_id"].get_string().get(client_id) == simdjson::SUCCESS) {
    info.client_id = std::string(client_id);
  } else if (doc["client_id"].get_uint64().get(numeric_id) == simdjson::SUCCESS) {
    info.client_id = absl::StrCat(numeric_id);
  } else {
    return Unparseable((*answer)->response, call);
  }
  int64_t expires_in = 0;
  if (doc["expires_in"].get_int64().get(expires_in) == simdjson::SUCCESS) {
    info.expires_in_seconds = expires_in;
  }
  std::string_view scope;
  if (doc["scope"].get_string().get(scope) == simdjson::SUCCESS) info.scope = std::string(scope);
  return info;
}

absl::StatusOr<LineBotInfo> CurlLineApi::GetBotInfo(const Secret& access_token,
                                                    absl::Time deadline) {
  CurlExchange::Request request{"GET", "/v2/bot/info", {}, &access_token};
  const absl::string_view call = "get bot info";
  auto answer = ReadJson(Perform(request, deadline), call, absl::StatusCode::kInvalidArgument);
  if (!answer.ok()) return answer.status();
  const simdjson::dom::element doc = (*answer)->doc;
  std::string_view user_id;
  std::string_view basic_id;
  if (doc["userId"].get_string().get(user_id) != simdjson::SUCCESS ||
      doc["basicId"].get_string().get(basic_id) != simdjson::SUCCESS) {
    return Unparseable((*answer)->response, call);
  }
  LineBotInfo info;
  info.user_id = std::string(user_id);
  info.basic_id = std::string(basic_id);
  std::string_view value;
  if (doc["premiumId"].get_string().get(value) == simdjson::SUCCESS) {
    info.premium_id = std::string(value);
  }
  if (doc["displayName"].get_string().get(value) == simdjson::SUCCESS) {
    info.display_name = std::string(value);
  }
  // Optional for us: an unknown or missing mode is reported as unknown, not as an error.
  if (doc["chatMode"].get_string().get(value) == simdjson::SUCCESS) {
    if (value == "chat") info.chat_mode = LineChatMode::kChat;
    if (value == "bot") info.chat_mode = LineChatMode::kBot;
  }
  if (doc["markAsReadMode"].get_string().get(value) == simdjson::SUCCESS) {
    if (value == "auto") info.mark_as_read_mode = LineMarkAsReadMode::kAuto;
    if (value == "manual") info.mark_as_read_mode = LineMarkAsReadMode::kManual;
  }
  return info;
}

namespace {

// {"endpoint": url}.
std::string EndpointJson(const std::string& url) {
  return JsonObjectWriter().String("endpoint", url).Finish();
}

}  // namespace

absl::StatusOr<LineWebhookEndpoint> CurlLineApi::GetWebhookEndpoint(const Secret& access_token,
                                                                    absl::Time deadline) {
  CurlExchange::Request request{"GET", "/v2/bot/channel/webhook/endpoint", {}, &access_token};
  const absl::string_view call = "get webhook endpoint";
  auto answer = ReadJson(Perform(request, deadline), call, absl::StatusCode::kInvalidArgument);
  if (!answer.ok()) return answer.status();
  const simdjson::dom::element doc = (*answer)->doc;
  std::string_view endpoint;
  bool active = false;
  if (doc["endpoint"].get_string().get(endpoint) != simdjson::SUCCESS ||
      doc["active"].get_bool().get(active) != simdjson::SUCCESS) {
    return Unparseable((*answer)->response, call);
  }
  return LineWebhookEndpoint{std::string(endpoint), active};
}

absl::Status CurlLineApi::SetWebhookEndpoint(const Secret& access_token, const std::string& url,
                                             absl::Time deadline) {
  CurlExchange::Request request{
      "PUT", "/v2/bot/channel/webhook/endpoint", {}, &access_token, EndpointJson(url)};
  auto response = Perform(request, deadline);
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return StatusForAnswer(*response, "set webhook endpoint", absl::StatusCode::kInvalidArgument);
  }
  return absl::OkStatus();
}

absl::StatusOr<LineWebhookTest> CurlLineApi::TestWebhookEndpoint(const Secret& access_token,
                                                                 const std::string& url,
                                                                 absl::Time deadline) {
  CurlExchange::Request request{"POST",
                                "/v2/bot/channel/webhook/test",
                                {},
                                &access_token,
                                url.empty() ? "{}" : EndpointJson(url)};
  const absl::string_view call = "test webhook endpoint";
  auto answer = ReadJson(Perform(request, deadline), call, absl::StatusCode::kInvalidArgument);
  if (!answer.ok()) return answer.status();
  const simdjson::dom::element doc = (*answer)->doc;
  LineWebhookTest test;
  if (doc["success"].get_bool().get(test.success) != simdjson::SUCCESS) {
    return Unparseable((*answer)->response, call);
  }
  std::string_view text;
  if (doc["timestamp"].get_string().get(text) == simdjson::SUCCESS) {
    test.timestamp = std::string(text);
  }
  int64_t status_code = 0;
  if (doc["statusCode"].get_int64().get(status_code) == simdjson::SUCCESS) {
    test.status_code = static_cast<int>(status_code);
  }
  if (doc["reason"].get_string().get(text) == simdjson::SUCCESS) test.reason = std::string(text);
  if (doc["detail"].get_string().get(text) == simdjson::SUCCESS) test.detail = std::string(text);
  return test;
}

absl::StatusOr<std::vector<LineRichMenu>> CurlLineApi::ListRichMenus(const Secret& access_token,
                                                                     absl::Time deadline) {
  CurlExchange::Request request{"GET", "/v2/bot/richmenu/list", {}, &access_token};
  const absl::string_view call = "get rich menu list";
  auto answer = ReadJson(Perform(request, deadline), call, absl::StatusCode::kInvalidArgument);
  if (!answer.ok()) return answer.status();
  simdjson::dom::array menus;
  if ((*answer)->doc["richmenus"].get_array().get(menus) != simdjson::SUCCESS) {
    return Unparseable((*answer)->response, call);
  }
  std::vector<LineRichMenu> list;
  for (simdjson::dom::element menu : menus) {
    std::string_view id;
    if (menu["richMenuId"].get_string().get(id) != simdjson::SUCCESS) {
      return Unparseable((*answer)->response, call);
    }
    std::string_view name;
    if (menu["name"].get_string().get(name) != simdjson::SUCCESS) name = {};
    list.push_back({std::string(id), std::string(name)});
  }
  return list;
}

absl::StatusOr<std::string> CurlLineApi::GetDefaultRichMenuId(const Secret& access_token,
                                                              absl::Time deadline) {
  CurlExchange::Request request{"GET", "/v2/bot/user/all/richmenu", {}, &access_token};
  const absl::string_view call = "get default rich menu id";
  auto answer = ReadJson(Perform(request, deadline), call, absl::StatusCode::kInvalidArgument);
  if (!answer.ok()) return answer.status();
  std::string_view id;
  if ((*answer)->doc["richMenuId"].get_string().get(id) != simdjson::SUCCESS || id.empty()) {
    return Unparseable((*answer)->response, call);
  }
  return std::string(id);
}

}  // namespace linechannel::server
