#include "server/webhook/webhook_payload.h"

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "simdjson.h"

namespace linechannel::server {
namespace {

// LINE's events nest a few levels deep; anything near this is not LINE.
constexpr size_t kMaxDepth = 64;
// The end of year 9999 in milliseconds: the last instant a protobuf Timestamp can hold.
constexpr int64_t kMaxTimestampMs = 253402300799999;
// Bodies up to this size are parsed with the thread's own parsers (LINE's usual bodies are a
// few KiB); a larger one gets parsers of its own, so that one big body does not leave every
// thread holding buffers its size.
constexpr size_t kReusedCapacity = 32 * 1024;

// A webhook thread's parsers and padded copy of the body, kept from one request to the next:
// made anew per request, their buffers' malloc and free were a fifth of the webhook threads'
// time, much of it waiting on the allocator's locks.
struct ThreadParsers {
  // Makes room for bodies of up to `capacity` bytes, if not made yet.
  simdjson::error_code Reserve(size_t capacity) {
    if (dom.capacity() < capacity) {
      if (auto error = dom.allocate(capacity, kMaxDepth); error) return error;
    }
    if (ondemand.capacity() < capacity) {
      if (auto error = ondemand.allocate(capacity, kMaxDepth); error) return error;
    }
    padded.reserve(capacity + simdjson::SIMDJSON_PADDING);
    return simdjson::SUCCESS;
  }
  simdjson::dom::parser dom;
  simdjson::ondemand::parser ondemand;
  std::string padded;
};

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("not a LINE webhook body: ", what));
}

absl::Status JsonError(simdjson::error_code error) {
  return absl::InvalidArgumentError(
      absl::StrCat("not a LINE webhook body: ", simdjson::error_message(error)));
}

std::string StringField(simdjson::dom::object object, std::string_view key) {
  std::string_view value;
  if (object[key].get_string().get(value) != simdjson::SUCCESS) return "";
  return std::string(value);
}

// The byte ranges of the elements of the body's "events" array, in order. simdjson's DOM has
// no positions, so a second, on-demand pass over the already validated body notes where each
// element starts and where the array ends; the whitespace and commas between are trimmed.
absl::StatusOr<std::vector<std::string_view>> EventTexts(simdjson::ondemand::parser& parser,
                                                         simdjson::padded_string_view body) {
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  if (auto error = parser.iterate(body).get(doc); error) return JsonError(error);
  if (auto error = doc.get_object().get(root); error) return JsonError(error);
  std::vector<const char*> starts;
  const char* after_array = nullptr;
  for (auto field : root) {
    std::string_view key;
    if (auto error = field.unescaped_key().get(key); error) return JsonError(error);
    if (key != "events") continue;
    if (after_array != nullptr) return Invalid("\"events\" appears twice");
    simdjson::ondemand::array events;
    if (auto error = field.value().get_array().get(events); error) return JsonError(error);
    for (auto element : events) {
      simdjson::ondemand::value value;
      if (auto error = element.get(value); error) return JsonError(error);
      const char* start = nullptr;
      if (auto error = value.current_location().get(start); error) return JsonError(error);
      starts.push_back(start);
    }
    if (auto error = doc.current_location().get(after_array); error) return JsonError(error);
  }
  if (after_array == nullptr) return Invalid("no \"events\" array");

  const auto trim_back = [&body](const char* end) {
    while (end > body.data() && absl::ascii_isspace(static_cast<unsigned char>(end[-1]))) --end;
    return end;
  };
  std::vector<std::string_view> texts;
  for (size_t i = 0; i < starts.size(); ++i) {
    // Back from the next element over the comma, or back from the token after the array
    // over its closing bracket.
    const char* end = trim_back(i + 1 < starts.size() ? starts[i + 1] : after_array);
    if (end <= starts[i]) return Invalid("cannot delimit an event");
    --end;  // ',' or ']'
    end = trim_back(end);
    texts.emplace_back(starts[i], static_cast<size_t>(end - starts[i]));
  }
  return texts;
}

}  // namespace

absl::StatusOr<WebhookPayload> ParseWebhookPayload(absl::string_view raw) {
  thread_local ThreadParsers reused;
  std::unique_ptr<ThreadParsers> own;
  ThreadParsers* parsers = &reused;
  if (raw.size() > kReusedCapacity) {
    own = std::make_unique<ThreadParsers>();
    parsers = own.get();
  }
  if (auto error = parsers->Reserve(std::max(raw.size(), kReusedCapacity)); error) {
    return JsonError(error);
  }
  parsers->padded.assign(raw.data(), raw.size());
  parsers->padded.append(simdjson::SIMDJSON_PADDING, '\0');
  const simdjson::padded_string_view body(parsers->padded.data(), raw.size(),
                                          parsers->padded.size());
  simdjson::dom::parser& parser = parsers->dom;
  simdjson::dom::element doc;
  if (auto error = parser.parse(body.data(), body.length(), false).get(doc); error) {
    return JsonError(error);
  }
  simdjson::dom::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) return Invalid("not a JSON object");

  WebhookPayload payload;
  // LINE's spec requires the destination. Older payloads without it (the SDKs' own tests have
  // some) are refused too: without it nothing says which bot the events are for.
  simdjson::dom::element destination;
  if (root["destination"].get(destination) != simdjson::SUCCESS) {
    return Invalid("no \"destination\"");
  }
  std::string_view text;
  if (destination.get_string().get(text) != simdjson::SUCCESS) {
    return Invalid("\"destination\" is not a string");
  }
  payload.destination = std::string(text);
  simdjson::dom::array events;
  if (root["events"].get_array().get(events) != simdjson::SUCCESS) {
    return Invalid("no \"events\" array");
  }

  size_t index = 0;
  for (simdjson::dom::element element : events) {
    const std::string where = absl::StrCat("events[", index++, "]");
    simdjson::dom::object event;
    if (element.get_object().get(event) != simdjson::SUCCESS) {
      return Invalid(absl::StrCat(where, " is not an object"));
    }
    storage::NewEvent out;
    std::string_view type;
    if (event["type"].get_string().get(type) != simdjson::SUCCESS || type.empty()) {
      return Invalid(absl::StrCat(where, " has no \"type\" string"));
    }
    out.type = std::string(type);
    if (event["timestamp"].get_int64().get(out.timestamp_ms) != simdjson::SUCCESS) {
      return Invalid(absl::StrCat(where, " has no integer \"timestamp\""));
    }
    if (out.timestamp_ms < 0 || out.timestamp_ms > kMaxTimestampMs) {
      return Invalid(absl::StrCat(where, " has a \"timestamp\" outside years 1970-9999"));
    }
    std::string_view id;
    if (event["webhookEventId"].get_string().get(id) == simdjson::SUCCESS && !id.empty()) {
      out.webhook_event_id = std::string(id);
    }
    out.mode = StringField(event, "mode");
    simdjson::dom::object delivery;
    if (event["deliveryContext"].get_object().get(delivery) == simdjson::SUCCESS) {
      bool redelivery = false;
      if (delivery["isRedelivery"].get_bool().get(redelivery) == simdjson::SUCCESS) {
        out.redelivery = redelivery;
      }
    }
    simdjson::dom::object source;
    if (event["source"].get_object().get(source) == simdjson::SUCCESS) {
      out.source_type = StringField(source, "type");
      out.source_user_id = StringField(source, "userId");
      out.source_group_id = StringField(source, "groupId");
      out.source_room_id = StringField(source, "roomId");
    }
    payload.events.push_back(std::move(out));
  }

  absl::StatusOr<std::vector<std::string_view>> texts = EventTexts(parsers->ondemand, body);
  if (!texts.ok()) return texts.status();
  if (texts->size() != payload.events.size()) return Invalid("cannot delimit the events");
  for (size_t i = 0; i < texts->size(); ++i) payload.events[i].raw_json = std::string((*texts)[i]);
  return payload;
}

}  // namespace linechannel::server
