#include "server/line/curl_line_api.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/base/json_writer.h"
#include "server/crypto/digest.h"
#include "simdjson.h"

namespace linechannel::server {
namespace {

// Handles stay idle for reuse up to this many; more concurrent calls open their own.
constexpr size_t kMaxIdleHandles = 64;
// LINE's answers are small; anything bigger is not LINE.
constexpr size_t kMaxResponseBytes = 1 << 20;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// A string whose bytes are wiped when it dies; for request bodies and headers that hold a
// secret or token.
class WipedString {
 public:
  ~WipedString() { WipeBytes(value.data(), value.size()); }
  std::string value;
};

size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t n = size * count;
  if (body->size() + n > kMaxResponseBytes) return 0;  // Makes curl fail the transfer.
  body->append(data, n);
  return n;
}

size_t ReadHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<CurlLineApi::Response*>(user);
  const size_t n = size * count;
  absl::string_view line(data, n);
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    const absl::string_view name = line.substr(0, colon);
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "x-line-request-id")) {
      response->request_id = std::string(value);
    } else if (absl::EqualsIgnoreCase(name, "retry-after")) {
      response->retry_after = std::string(value);
    }
  }
  return n;
}

std::string Escape(CURL* curl, const std::string& value) {
  char* escaped = curl_easy_escape(curl, value.data(), static_cast<int>(value.size()));
  std::string out = escaped == nullptr ? "" : escaped;
  if (escaped != nullptr) {
    WipeBytes(escaped, out.size());
    curl_free(escaped);
  }
  return out;
}

// " (X-Line-Request-Id: ...)" or nothing, for messages support people can trace with LINE.
std::string RequestIdSuffix(const CurlLineApi::Response& response) {
  if (response.request_id.empty()) return "";
  return absl::StrCat(" (X-Line-Request-Id: ", response.request_id, ")");
}

// LINE's own words from an error body: OAuth endpoints answer {error, error_description},
// /v2/bot endpoints {message, details: [{message, property}]}.
std::string LineErrorText(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS) return "";
  std::string text;
  std::string_view value;
  if (doc["error"].get_string().get(value) == simdjson::SUCCESS) text = std::string(value);
  if (doc["error_description"].get_string().get(value) == simdjson::SUCCESS) {
    absl::StrAppend(&text, text.empty() ? "" : ": ", std::string(value));
  }
  if (doc["message"].get_string().get(value) == simdjson::SUCCESS) {
    absl::StrAppend(&text, text.empty() ? "" : ": ", std::string(value));
  }
  simdjson::dom::array details;
  if (doc["details"].get_array().get(details) == simdjson::SUCCESS) {
    for (simdjson::dom::element detail : details) {
      std::string_view property;
      std::string_view message;
      if (detail["property"].get_string().get(property) != simdjson::SUCCESS) property = "";
      if (detail["message"].get_string().get(message) != simdjson::SUCCESS) message = "";
      absl::StrAppend(&text, "; ", std::string(property), property.empty() ? "" : ": ",
                      std::string(message));
    }
  }
  // LINE's words go into our messages: keep them short and printable.
  if (text.size() > 300) text = text.substr(0, 300) + "…";
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return text;
}

// The status for a non-2xx answer. `rejected` is the code for a 400, which means "these
// credentials are wrong" on some calls and "bad request" on others.
absl::Status StatusForAnswer(const CurlLineApi::Response& response, absl::string_view call,
                             absl::StatusCode rejected) {
  const std::string said = LineErrorText(response.body);
  const std::string message =
      absl::StrCat("LINE ", call, " answered HTTP ", response.status,
                   said.empty() ? "" : absl::StrCat(" (", said, ")"), RequestIdSuffix(response));
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

absl::Status Unparseable(const CurlLineApi::Response& response, absl::string_view call) {
  return absl::UnavailableError(absl::StrCat("LINE ", call, " answered with a body we cannot read",
                                             RequestIdSuffix(response)));
}

// LINE's answer to a call that answers JSON: the exchange, and its body parsed once LINE
// answered 200.
struct JsonAnswer {
  CurlLineApi::Response response;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
};

// The answer to `call` parsed; any status but 200 is the error that status means (`refused`:
// the code for LINE refusing what we sent), and so is a body that is not JSON. On the heap:
// the parsed document points into its parser.
absl::StatusOr<std::unique_ptr<JsonAnswer>> ReadJson(absl::StatusOr<CurlLineApi::Response> response,
                                                     absl::string_view call,
                                                     absl::StatusCode refused) {
  if (!response.ok()) return response.status();
  auto answer = std::make_unique<JsonAnswer>();
  answer->response = *std::move(response);
  if (answer->response.status != 200) return StatusForAnswer(answer->response, call, refused);
  if (answer->parser.parse(answer->response.body).get(answer->doc) != simdjson::SUCCESS) {
    return Unparseable(answer->response, call);
  }
  return answer;
}

}  // namespace

CurlLineApi::CurlLineApi(Options options) : options_(std::move(options)) { InitCurlOnce(); }

CurlLineApi::~CurlLineApi() {
  absl::MutexLock lock(&mu_);
  for (void* handle : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* CurlLineApi::TakeHandle() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_handles_.empty()) {
      void* handle = idle_handles_.back();
      idle_handles_.pop_back();
      return handle;
    }
  }
  return curl_easy_init();
}

void CurlLineApi::ReturnHandle(void* handle) {
  absl::MutexLock lock(&mu_);
  if (idle_handles_.size() < kMaxIdleHandles) {
    idle_handles_.push_back(handle);
    return;
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

absl::StatusOr<CurlLineApi::Response> CurlLineApi::Perform(const Request& request,
                                                           absl::Time deadline) {
  const std::string call = absl::StrCat(request.method, " ", request.path);
  const absl::Duration until_deadline = deadline - absl::Now();
  const absl::Duration left = std::min(options_.timeout, until_deadline);
  if (left <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError(
        absl::StrCat("no time left to call LINE ", call, " before the deadline"));
  }
  CURL* handle = static_cast<CURL*>(TakeHandle());
  if (handle == nullptr) return absl::InternalError("curl_easy_init failed");
  // Whatever happens below, the handle goes back (reset, so no option of this call leaks
  // into the next).
  struct Returner {
    CurlLineApi* api;
    CURL* handle;
    ~Returner() {
      curl_easy_reset(handle);
      api->ReturnHandle(handle);
    }
  } returner{this, handle};

  Response response;
  WipedString form;
  for (const auto& [name, value] : request.form) {
    absl::StrAppend(&form.value, form.value.empty() ? "" : "&", name, "=",
                    Escape(handle, value.Reveal()));
  }
  WipedString authorization;
  curl_slist* headers = nullptr;
  if (!request.json.empty()) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
  }
  if (request.bearer != nullptr) {
    authorization.value = absl::StrCat("Authorization: Bearer ", request.bearer->Reveal());
    headers = curl_slist_append(headers, authorization.value.c_str());
  }
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, curl_slist_free_all);
  char error_buffer[CURL_ERROR_SIZE] = {0};

  const std::string url = options_.base_url + request.path;
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS,
                   std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(left))));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout)));
  curl_easy_setopt(handle, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  if (!options_.ca_file.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "channeld/1");
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &response);
  if (headers != nullptr) curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  const std::string& payload = request.json.empty() ? form.value : request.json;
  if (request.method == "GET") {
    curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(handle, CURLOPT_POST, 1L);
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  }

  const CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    const std::string detail = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    if (code == CURLE_OPERATION_TIMEDOUT && until_deadline <= options_.timeout) {
      return absl::DeadlineExceededError(
          absl::StrCat("LINE ", call, " did not answer before the deadline"));
    }
    return absl::UnavailableError(absl::StrCat("LINE ", call, " failed: ", detail));
  }
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

absl::Status CurlLineApi::CheckChannelSecret(const std::string& channel_id,
                                             const Secret& channel_secret, absl::Time deadline) {
  Request request{"POST", "/oauth2/v3/token", {}, nullptr, ""};
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
  Request request{"POST", "/v2/oauth/verify", {}, nullptr, ""};
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
  Request request{"GET", "/v2/bot/info", {}, &access_token, ""};
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
  Request request{"GET", "/v2/bot/channel/webhook/endpoint", {}, &access_token, ""};
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
  Request request{"PUT", "/v2/bot/channel/webhook/endpoint", {}, &access_token, EndpointJson(url)};
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
  Request request{"POST",
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

}  // namespace linechannel::server
