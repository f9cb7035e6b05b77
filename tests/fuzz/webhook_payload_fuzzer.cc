// Fuzzes ParseWebhookPayload on arbitrary bodies (the input is the body).
//
// Invariants:
//  - it never crashes, and a refusal is INVALID_ARGUMENT saying "not a LINE webhook body";
//  - an accepted body is valid UTF-8 and has a string "destination";
//  - every event's raw_json is a slice of the body, in body order and without overlap,
//    starts with '{' and ends with '}';
//  - each raw_json parses again on its own, wrapped as {"destination":"U","events":[<raw>]},
//    to one event with the same fields (type, timestamp, webhookEventId, mode, redelivery,
//    source) and the same raw_json.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/webhook/webhook_payload.h"
#include "simdjson.h"
#include "tests/fuzz/fuzz_support.h"

namespace linechannel::fuzz {
namespace {

void CheckSameEvent(const storage::NewEvent& a, const storage::NewEvent& b) {
  FUZZ_CHECK(a.type == b.type);
  FUZZ_CHECK(a.timestamp_ms == b.timestamp_ms);
  FUZZ_CHECK(a.webhook_event_id == b.webhook_event_id);
  FUZZ_CHECK(a.mode == b.mode);
  FUZZ_CHECK(a.redelivery == b.redelivery);
  FUZZ_CHECK(a.source_type == b.source_type);
  FUZZ_CHECK(a.source_user_id == b.source_user_id);
  FUZZ_CHECK(a.source_group_id == b.source_group_id);
  FUZZ_CHECK(a.source_room_id == b.source_room_id);
  FUZZ_CHECK(a.raw_json == b.raw_json);
}

}  // namespace
}  // namespace linechannel::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linechannel;
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<server::WebhookPayload> payload = server::ParseWebhookPayload(body);
  if (!payload.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(payload.status()));
    FUZZ_CHECK(absl::StartsWith(payload.status().message(), "not a LINE webhook body"));
    return 0;
  }
  FUZZ_CHECK(simdjson::validate_utf8(body.data(), body.size()));

  size_t after_previous = 0;
  for (const storage::NewEvent& event : payload->events) {
    const std::string& raw = event.raw_json;
    FUZZ_CHECK(!raw.empty());
    FUZZ_CHECK(raw.front() == '{');
    FUZZ_CHECK(raw.back() == '}');
    const size_t at = body.find(raw, after_previous);
    FUZZ_CHECK(at != absl::string_view::npos);
    after_previous = at + raw.size();
    FUZZ_CHECK(!event.type.empty());
    FUZZ_CHECK(event.timestamp_ms >= 0);

    const std::string alone = absl::StrCat(R"({"destination":"U","events":[)", raw, "]}");
    absl::StatusOr<server::WebhookPayload> again = server::ParseWebhookPayload(alone);
    if (!again.ok()) {
      fuzz::Fail("event %s parses in the body but not alone: %s", raw.c_str(),
                 std::string(again.status().message()).c_str());
    }
    FUZZ_CHECK(again->events.size() == 1);
    FUZZ_CHECK(again->destination == "U");
    fuzz::CheckSameEvent(event, again->events[0]);
  }
  return 0;
}
