#ifndef LINECHANNEL_SERVER_BINDING_WEBHOOK_REPORT_CODEC_H_
#define LINECHANNEL_SERVER_BINDING_WEBHOOK_REPORT_CODEC_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "server/binding/webhook_report.h"

namespace linechannel::server {

// The text a VerifyWebhook answer is stored as (a check record): versioned JSON,
//   {"format":"webhook_report/1","verdict":"OK","summary":"...","checked_at_us":...,
//    "last_signed_request_us":...,"last_bad_signature_us":...,
//    "chat_mode":"CHAT"|"BOT","mark_as_read_mode":"AUTO"|"MANUAL",
//    "checks":[{"kind":"ACCESS_TOKEN_VALID","result":"PASS","summary":"...",
//               "evidence":"...","next_step":"..."}]}
// Times are microseconds since the Unix epoch; the two traffic times are left out when unset,
// and so are the two modes when unknown. Fields and check kinds are only ever added, under the
// same version: a record written before an addition still decodes (the new fields unset).
// `from_cache` and `result_age` describe an answer, not a finding, and are not stored.
// Text that is not valid UTF-8 is stored with U+FFFD in its place. Pure; thread-safe.
std::string EncodeWebhookReport(const WebhookReport& report);

// The report in `text`, or nullopt if `text` is not one in the format above: an older
// server's record (a serialized protobuf), another format version, or garbage. Callers treat
// that as having no record.
std::optional<WebhookReport> DecodeWebhookReport(absl::string_view text);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_WEBHOOK_REPORT_CODEC_H_
