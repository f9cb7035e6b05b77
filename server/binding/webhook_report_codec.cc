#include "server/binding/webhook_report_codec.h"

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

#include "server/base/json_writer.h"
#include "simdjson.h"

namespace linechannel::server {
namespace {

constexpr char kFormat[] = "webhook_report/1";

// Each enum's stored names, in enumerator order. Stored names never change: a new value gets a
// new name, and a renamed enumerator keeps its old one.
constexpr std::array<absl::string_view, 7> kKindNames = {
    "ACCESS_TOKEN_VALID", "WEBHOOK_URL_MATCHES", "WEBHOOK_ENABLED",  "LINE_TEST_DELIVERED",
    "SIGNATURE_VERIFIED", "RECENT_TRAFFIC",      "RESPONSE_SETTINGS"};
constexpr std::array<absl::string_view, 4> kResultNames = {"PASS", "FAIL", "SKIPPED", "WARNING"};
constexpr std::array<absl::string_view, 3> kVerdictNames = {"OK", "ACTION_NEEDED",
                                                            "LINE_UNAVAILABLE"};
// The chat modes, from kUnknown on; kUnknown is stored by leaving the field out.
constexpr std::array<absl::string_view, 3> kChatModeNames = {"", "CHAT", "BOT"};
constexpr std::array<absl::string_view, 3> kMarkAsReadModeNames = {"", "AUTO", "MANUAL"};
// Fail the build when an enumerator is added after the last one named here without a name.
static_assert(kKindNames.size() == static_cast<size_t>(CheckKind::kResponseSettings) + 1);
static_assert(kResultNames.size() == static_cast<size_t>(CheckResult::kWarning) + 1);
static_assert(kVerdictNames.size() == static_cast<size_t>(Verdict::kLineUnavailable) + 1);
static_assert(kChatModeNames.size() == static_cast<size_t>(LineChatMode::kBot) + 1);
static_assert(kMarkAsReadModeNames.size() == static_cast<size_t>(LineMarkAsReadMode::kManual) + 1);

template <typename Enum, size_t N>
absl::string_view NameOf(Enum value, const std::array<absl::string_view, N>& names) {
  return names[static_cast<size_t>(value)];
}

template <typename Enum, size_t N>
bool ValueOf(absl::string_view name, const std::array<absl::string_view, N>& names, Enum* out) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) {
      *out = static_cast<Enum>(i);
      return true;
    }
  }
  return false;
}

bool ReadString(simdjson::dom::object object, std::string_view key, std::string* out) {
  std::string_view text;
  if (object[key].get_string().get(text) != simdjson::SUCCESS) return false;
  *out = std::string(text);
  return true;
}

bool ReadTime(simdjson::dom::object object, std::string_view key, absl::Time* out) {
  int64_t micros = 0;
  if (object[key].get_int64().get(micros) != simdjson::SUCCESS) return false;
  *out = absl::FromUnixMicros(micros);
  return true;
}

// An optional time: absent is unset, present must be a number.
bool ReadOptionalTime(simdjson::dom::object object, std::string_view key,
                      std::optional<absl::Time>* out) {
  simdjson::dom::element element;
  if (object[key].get(element) != simdjson::SUCCESS) return true;
  absl::Time time;
  if (!ReadTime(object, key, &time)) return false;
  *out = time;
  return true;
}

template <typename Enum, size_t N>
bool ReadEnum(simdjson::dom::object object, std::string_view key,
              const std::array<absl::string_view, N>& names, Enum* out) {
  std::string name;
  return ReadString(object, key, &name) && ValueOf(name, names, out);
}

// An optional enum: absent leaves `out` as it was (its unknown value), present must be a name.
template <typename Enum, size_t N>
bool ReadOptionalEnum(simdjson::dom::object object, std::string_view key,
                      const std::array<absl::string_view, N>& names, Enum* out) {
  simdjson::dom::element element;
  if (object[key].get(element) != simdjson::SUCCESS) return true;
  return ReadEnum(object, key, names, out);
}

bool ReadCheck(simdjson::dom::element element, WebhookCheck* check) {
  simdjson::dom::object object;
  if (element.get_object().get(object) != simdjson::SUCCESS) return false;
  return ReadEnum(object, "kind", kKindNames, &check->kind) &&
         ReadEnum(object, "result", kResultNames, &check->result) &&
         ReadString(object, "summary", &check->summary) &&
         ReadString(object, "evidence", &check->evidence) &&
         ReadString(object, "next_step", &check->next_step);
}

}  // namespace

std::string EncodeWebhookReport(const WebhookReport& report) {
  std::string checks = "[";
  for (const WebhookCheck& check : report.checks) {
    if (checks.size() > 1) checks += ',';
    checks += JsonObjectWriter()
                  .String("kind", NameOf(check.kind, kKindNames))
                  .String("result", NameOf(check.result, kResultNames))
                  .String("summary", check.summary)
                  .String("evidence", check.evidence)
                  .String("next_step", check.next_step)
                  .Finish();
  }
  checks += ']';
  JsonObjectWriter object;
  object.String("format", kFormat)
      .String("verdict", NameOf(report.verdict, kVerdictNames))
      .String("summary", report.summary)
      .Int("checked_at_us", absl::ToUnixMicros(report.checked_at));
  if (report.last_signed_request) {
    object.Int("last_signed_request_us", absl::ToUnixMicros(*report.last_signed_request));
  }
  if (report.last_bad_signature) {
    object.Int("last_bad_signature_us", absl::ToUnixMicros(*report.last_bad_signature));
  }
  if (report.chat_mode != LineChatMode::kUnknown) {
    object.String("chat_mode", NameOf(report.chat_mode, kChatModeNames));
  }
  if (report.mark_as_read_mode != LineMarkAsReadMode::kUnknown) {
    object.String("mark_as_read_mode", NameOf(report.mark_as_read_mode, kMarkAsReadModeNames));
  }
  object.Raw("checks", checks);
  return object.Finish();
}

std::optional<WebhookReport> DecodeWebhookReport(absl::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) return std::nullopt;
  std::string format;
  if (!ReadString(root, "format", &format) || format != kFormat) return std::nullopt;

  WebhookReport report;
  simdjson::dom::array checks;
  if (!ReadEnum(root, "verdict", kVerdictNames, &report.verdict) ||
      !ReadString(root, "summary", &report.summary) ||
      !ReadTime(root, "checked_at_us", &report.checked_at) ||
      !ReadOptionalTime(root, "last_signed_request_us", &report.last_signed_request) ||
      !ReadOptionalTime(root, "last_bad_signature_us", &report.last_bad_signature) ||
      // Records from before the response-settings check have neither mode.
      !ReadOptionalEnum(root, "chat_mode", kChatModeNames, &report.chat_mode) ||
      !ReadOptionalEnum(root, "mark_as_read_mode", kMarkAsReadModeNames,
                        &report.mark_as_read_mode) ||
      root["checks"].get_array().get(checks) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  for (simdjson::dom::element element : checks) {
    WebhookCheck check;
    if (!ReadCheck(element, &check)) return std::nullopt;
    report.checks.push_back(std::move(check));
  }
  return report;
}

}  // namespace linechannel::server
