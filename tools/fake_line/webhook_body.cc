#include "tools/fake_line/webhook_body.h"

#include <simdjson.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/fake_line/json_reader.h"
#include "tools/fake_line/json_writer.h"

namespace linechannel::fake_line {
namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

std::string BuildWebhookBody(absl::string_view destination, const std::vector<RawEvent>& events) {
  // The envelope is assembled around already-serialised pieces; only the destination needs
  // quoting, which protobuf's printer does.
  return absl::StrCat(
      "{\"destination\":", JsonQuote(destination), ",\"events\":[",
      absl::StrJoin(events, ",",
                    [](std::string* out, const RawEvent& event) { out->append(event.json); }),
      "]}");
}

absl::StatusOr<std::vector<RawEvent>> SplitEvents(absl::string_view array_json) {
  // Two passes: the DOM parser validates everything and reads each event's id; the On-Demand
  // parser then yields each element's original bytes, which the DOM does not keep.
  simdjson::dom::parser dom_parser;
  simdjson::dom::element root;
  if (auto error = dom_parser.parse(array_json.data(), array_json.size()).get(root); error) {
    return absl::InvalidArgumentError(
        absl::StrCat("events are not valid JSON: ", simdjson::error_message(error)));
  }
  simdjson::dom::array array;
  if (root.get_array().get(array)) {
    return absl::InvalidArgumentError("\"events\" must be an array");
  }
  std::vector<RawEvent> events;
  for (simdjson::dom::element element : array) {
    simdjson::dom::object object;
    if (element.get_object().get(object)) {
      return absl::InvalidArgumentError("each event must be a JSON object");
    }
    RawEvent event;
    std::string_view id;
    if (object.at_key("webhookEventId").get_string().get(id) == simdjson::SUCCESS) {
      event.webhook_event_id = std::string(id);
    }
    events.push_back(std::move(event));
  }

  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(array_json.data(), array_json.size());
  simdjson::ondemand::document doc;
  simdjson::ondemand::array elements;
  if (parser.iterate(padded).get(doc) || doc.get_array().get(elements)) {
    return absl::InvalidArgumentError("events could not be re-read");
  }
  size_t i = 0;
  for (auto element : elements) {
    simdjson::ondemand::value value;
    std::string_view text;
    if (element.get(value) || simdjson::to_json_string(value).get(text) || i >= events.size()) {
      return absl::InvalidArgumentError("events could not be re-read");
    }
    events[i++].json = std::string(text);
  }
  if (i != events.size()) return absl::InvalidArgumentError("events could not be re-read");
  return events;
}

absl::StatusOr<std::string> RawMember(absl::string_view object_json, absl::string_view key) {
  simdjson::dom::parser dom_parser;
  simdjson::dom::element root;
  if (dom_parser.parse(object_json.data(), object_json.size()).get(root) ||
      root.type() != simdjson::dom::element_type::OBJECT) {
    return absl::InvalidArgumentError("not a valid JSON object");
  }
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(object_json.data(), object_json.size());
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(object)) {
    return absl::InvalidArgumentError("not a valid JSON object");
  }
  for (auto field : object) {
    std::string_view name;
    if (field.unescaped_key().get(name)) return absl::InvalidArgumentError("bad object key");
    if (ToAbsl(name) != key) continue;
    simdjson::ondemand::value value;
    std::string_view text;
    if (field.value().get(value) || simdjson::to_json_string(value).get(text)) {
      return absl::InvalidArgumentError(absl::StrCat("cannot read \"", key, "\""));
    }
    return std::string(text);
  }
  return absl::NotFoundError(absl::StrCat("no member \"", key, "\""));
}

absl::StatusOr<std::string> MarkRedelivery(absl::string_view event_json) {
  // Inside a JSON string every quote is escaped, so the quoted key below can only match a real
  // key. Looking after "deliveryContext" avoids a key of the same name elsewhere in the event.
  const size_t context = event_json.find("\"deliveryContext\"");
  const size_t key = context == absl::string_view::npos
                         ? absl::string_view::npos
                         : event_json.find("\"isRedelivery\"", context);
  if (key == absl::string_view::npos) {
    return absl::FailedPreconditionError("event has no deliveryContext.isRedelivery");
  }
  size_t at = key + sizeof("\"isRedelivery\"") - 1;
  while (at < event_json.size() && IsJsonSpace(event_json[at])) ++at;
  if (at >= event_json.size() || event_json[at] != ':') {
    return absl::FailedPreconditionError("malformed deliveryContext.isRedelivery");
  }
  ++at;
  while (at < event_json.size() && IsJsonSpace(event_json[at])) ++at;
  if (event_json.substr(at, 4) == "true") return std::string(event_json);
  if (event_json.substr(at, 5) != "false") {
    return absl::FailedPreconditionError("deliveryContext.isRedelivery is not a boolean");
  }
  return absl::StrCat(event_json.substr(0, at), "true", event_json.substr(at + 5));
}

}  // namespace linechannel::fake_line
