#include "server/line/curl_exchange.h"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/crypto/digest.h"

namespace linechannel::server {
namespace {

// Handles stay idle for reuse up to this many; more concurrent calls open their own.
constexpr size_t kMaxIdleHandles = 64;
// LINE's JSON answers are small; anything bigger is not LINE. Content goes to a sink instead.
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

// What the write callback needs: where the body goes, and whether a sink stopped it.
struct BodyTarget {
  CURL* handle = nullptr;
  CurlExchange::Response* response = nullptr;
  const CurlExchange::BodySink* sink = nullptr;
  bool head_given = false;
  bool streaming = false;
  bool stopped = false;
};

// Reads the status and headers into the response once, when the body starts (curl has them by
// then) or when the exchange ends without a body.
void ReadHead(BodyTarget& target) {
  curl_easy_getinfo(target.handle, CURLINFO_RESPONSE_CODE, &target.response->status);
  const char* type = nullptr;
  if (curl_easy_getinfo(target.handle, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK &&
      type != nullptr) {
    target.response->content_type = type;
  }
  curl_off_t length = -1;
  if (curl_easy_getinfo(target.handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK) {
    target.response->content_length = length;
  }
}

// Starts a 200 answer's stream into the sink; false when the sink wants no more.
bool StartStream(BodyTarget& target) {
  target.head_given = true;
  target.streaming = target.sink != nullptr && target.response->status == 200;
  if (target.streaming && !target.sink->head(*target.response)) target.stopped = true;
  return !target.stopped;
}

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* target = static_cast<BodyTarget*>(user);
  const size_t n = size * count;
  if (!target->head_given) {
    ReadHead(*target);
    if (!StartStream(*target)) return 0;  // Makes curl fail the transfer.
  }
  if (target->streaming) {
    if (!target->sink->chunk(absl::string_view(data, n))) {
      target->stopped = true;
      return 0;
    }
    return n;
  }
  std::string& body = target->response->body;
  if (body.size() + n > kMaxResponseBytes) return 0;
  body.append(data, n);
  return n;
}

size_t ReadHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<CurlExchange::Response*>(user);
  const size_t n = size * count;
  absl::string_view line(data, n);
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    const absl::string_view name = line.substr(0, colon);
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (absl::EqualsIgnoreCase(name, "x-line-request-id")) {
      response->request_id = std::string(value);
    } else if (absl::EqualsIgnoreCase(name, "x-line-accepted-request-id")) {
      response->accepted_request_id = std::string(value);
    } else if (absl::EqualsIgnoreCase(name, "retry-after")) {
      response->retry_after = std::string(value);
    }
  }
  return n;
}

// Failures that happen before a connection exists: nothing of the request went out.
bool NeverConnected(CURLcode code) {
  return code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT ||
         code == CURLE_COULDNT_RESOLVE_PROXY;
}

}  // namespace

CurlExchange::CurlExchange(Options options) : options_(std::move(options)) { InitCurlOnce(); }

CurlExchange::~CurlExchange() {
  absl::MutexLock lock(&mu_);
  for (void* handle : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

std::string CurlExchange::Escape(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      constexpr char kHex[] = "0123456789ABCDEF";
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
  return out;
}

void* CurlExchange::TakeHandle() {
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

void CurlExchange::ReturnHandle(void* handle) {
  absl::MutexLock lock(&mu_);
  if (idle_handles_.size() < kMaxIdleHandles) {
    idle_handles_.push_back(handle);
    return;
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

CurlExchange::Outcome CurlExchange::Perform(const Request& request, absl::Time deadline) {
  Outcome outcome;
  const absl::Duration until_deadline = deadline - absl::Now();
  const absl::Duration left =
      request.until_deadline ? until_deadline : std::min(options_.timeout, until_deadline);
  if (left <= absl::ZeroDuration()) {
    outcome.no_time_left = true;
    return outcome;
  }
  outcome.deadline_cut = left == until_deadline;
  CURL* handle = static_cast<CURL*>(TakeHandle());
  if (handle == nullptr) {
    outcome.error = "curl_easy_init failed";
    return outcome;
  }
  // Whatever happens below, the handle goes back (reset, so no option of this call leaks
  // into the next).
  struct Returner {
    CurlExchange* exchange;
    CURL* handle;
    ~Returner() {
      curl_easy_reset(handle);
      exchange->ReturnHandle(handle);
    }
  } returner{this, handle};

  WipedString form;
  for (const auto& [name, value] : request.form) {
    WipedString escaped;
    escaped.value = Escape(value.Reveal());
    absl::StrAppend(&form.value, form.value.empty() ? "" : "&", name, "=", escaped.value);
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
  for (const std::string& header : request.headers) {
    headers = curl_slist_append(headers, header.c_str());
  }
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(headers, curl_slist_free_all);
  char error_buffer[CURL_ERROR_SIZE] = {0};
  BodyTarget body{handle, &outcome.response, request.sink};

  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
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
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &outcome.response);
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
  long request_bytes = 0;
  curl_easy_getinfo(handle, CURLINFO_REQUEST_SIZE, &request_bytes);
  outcome.sent = request_bytes > 0 && !NeverConnected(code);
  outcome.stopped = body.stopped;
  if (code != CURLE_OK) {
    outcome.error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    outcome.timed_out = code == CURLE_OPERATION_TIMEDOUT;
    return outcome;
  }
  if (!body.head_given) {
    // No body arrived: the head is all there is, and a sink still gets it.
    ReadHead(body);
    if (!StartStream(body)) {
      outcome.stopped = true;
      outcome.error = "stopped by the receiver";
    }
  }
  return outcome;
}

}  // namespace linechannel::server
