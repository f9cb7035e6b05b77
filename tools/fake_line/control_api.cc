#include "tools/fake_line/control_api.h"

#include <simdjson.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/fake_line/control_replies.h"
#include "tools/fake_line/event_factory.h"
#include "tools/fake_line/fixture.h"
#include "tools/fake_line/json_reader.h"
#include "tools/fake_line/json_writer.h"
#include "tools/fake_line/message_checks.h"
#include "tools/fake_line/responses.h"
#include "tools/fake_line/rich_menus.h"
#include "tools/fake_line/signature.h"

namespace linechannel::fake_line {
namespace {

constexpr int64_t kMaxGeneratedEvents = 1000;
constexpr int64_t kMaxDelayMs = 600000;
constexpr int64_t kMaxGeneratedContentBytes = int64_t{4} << 30;

JsonObject StateJson(const ChannelState& state) {
  const Channel& channel = state.channel;
  JsonObject calls;
  for (const auto& [key, count] : state.calls) calls.Set(key, count);
  return JsonObject()
      .Set("channel_id", channel.channel_id)
      .Set("channel_secret", channel.channel_secret)
      .Set("access_token", channel.access_token)
      .Set("bot_user_id", channel.bot_user_id)
      .Set("basic_id", channel.basic_id)
      .Set("premium_id", channel.premium_id)
      .Set("display_name", channel.display_name)
      .Set("picture_url", channel.picture_url)
      .Set("webhook_endpoint", channel.webhook_endpoint)
      .Set("webhook_active", channel.webhook_active)
      .Set("chat_mode", channel.chat_mode)
      .Set("mark_as_read_mode", channel.mark_as_read_mode)
      .Set("rich_menus", RichMenusJson(channel.rich_menus))
      .Set("default_rich_menu_id", channel.default_rich_menu_id)
      .Set("token_revoked", state.token_revoked)
      .Set("fail_status", state.faults.fail_status)
      .Set("delay_ms", state.faults.delay_ms)
      .Set("calls", calls)
      .Set("test_endpoint_calls_last_hour", state.test_endpoint_calls_last_hour)
      .Set("remembered_events", state.remembered_events);
}

JsonObject FaultsJson(const Faults& faults) {
  return JsonObject().Set("fail_status", faults.fail_status).Set("delay_ms", faults.delay_ms);
}

absl::Status CheckFailStatus(int64_t status) {
  if (status == 0 || (status >= 400 && status <= 599)) return absl::OkStatus();
  return absl::InvalidArgumentError("\"fail_status\" must be 0 (off) or an HTTP status 400..599");
}

absl::Status CheckDelay(int64_t millis) {
  if (millis >= 0 && millis <= kMaxDelayMs) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("\"delay_ms\" must be between 0 and ", kMaxDelayMs));
}

using Overrides = WebhookOverrides;

// Reads `key` into `overrides` if it is one of the override fields. Returns false if `key` is
// not one; an error if it is one but not a string.
absl::StatusOr<bool> ReadOverride(absl::string_view key, simdjson::dom::element value,
                                  Overrides& overrides) {
  std::optional<std::string>* target = nullptr;
  if (key == "endpoint") {
    target = &overrides.endpoint;
  } else if (key == "secret") {
    target = &overrides.secret;
  } else if (key == "signature") {
    target = &overrides.signature;
  } else if (key == "destination") {
    target = &overrides.destination;
  } else {
    return false;
  }
  absl::StatusOr<std::string> text = JsonString(value, key);
  if (!text.ok()) return text.status();
  *target = *std::move(text);
  return true;
}

// Where a webhook goes and the x-line-signature it carries: the channel's own endpoint and a
// signature with its secret, unless the call overrides them (an empty signature: no header).
void AddressAndSign(const Channel& channel, const Overrides& overrides, const std::string& body,
                    std::string& endpoint, std::optional<std::string>& signature) {
  endpoint = overrides.endpoint.value_or(channel.webhook_endpoint);
  if (overrides.signature.has_value()) {
    if (!overrides.signature->empty()) signature = *overrides.signature;
  } else {
    signature = SignWebhookBody(overrides.secret.value_or(channel.channel_secret), body);
  }
}

absl::Status UnknownField(absl::string_view key) {
  return absl::InvalidArgumentError(absl::StrCat("unknown field \"", key, "\""));
}

// What a webhook call's "generate" asks for.
struct Generate {
  int64_t count = 1;
  EventSpec spec;
};

// Reads "generate": {count, type, message_type, user_id, group_id, room_id, content_size}.
absl::StatusOr<Generate> ParseGenerate(simdjson::dom::element value) {
  simdjson::dom::object object;
  if (value.get_object().get(object)) {
    return absl::InvalidArgumentError("\"generate\" must be an object");
  }
  Generate generate;
  EventSpec& spec = generate.spec;
  for (const auto& [raw_field, field_value] : object) {
    const absl::string_view field = ToAbsl(raw_field);
    const std::string name = absl::StrCat("generate.", field);
    if (field == "count" || field == "content_size") {
      absl::StatusOr<int64_t> n = JsonInt(field_value, name);
      if (!n.ok()) return n.status();
      (field == "count" ? generate.count : spec.content_size) = *n;
      continue;
    }
    absl::StatusOr<std::string> text = JsonString(field_value, name);
    if (!text.ok()) return text.status();
    if (field == "type") {
      spec.type = *text;
    } else if (field == "message_type") {
      spec.message_type = *text;
    } else if (field == "user_id" || field == "group_id" || field == "room_id") {
      const char prefix = field == "user_id" ? 'U' : field == "group_id" ? 'C' : 'R';
      if (!IsChatId(*text) || (*text)[0] != prefix) {
        return absl::InvalidArgumentError(absl::StrCat("\"", name, "\" must be \"",
                                                       std::string(1, prefix),
                                                       "\" and 32 lower-case hex digits"));
      }
      (field == "user_id"    ? spec.user_id
       : field == "group_id" ? spec.group_id
                             : spec.room_id) = *text;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown field \"", name, "\""));
    }
  }
  if (generate.count < 0 || generate.count > kMaxGeneratedEvents || spec.type.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"generate\" needs 0 <= count <= ", kMaxGeneratedEvents, " and a non-empty type"));
  }
  if (spec.message_type != "text" && !HasContent(spec.message_type)) {
    return absl::InvalidArgumentError(
        "\"generate.message_type\" must be text, image, video, audio or file");
  }
  if (spec.content_size < -1 || spec.content_size > kMaxGeneratedContentBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"generate.content_size\" must be between 0 and ", kMaxGeneratedContentBytes));
  }
  return generate;
}

// What a sent event made usable, as the webhook calls report it.
JsonObject FactsJson(absl::string_view webhook_event_id, const EventFacts& facts) {
  JsonObject json;
  json.Set("webhook_event_id", webhook_event_id)
      .Set("user_id", facts.user_id)
      .Set("reply_token", facts.reply_token)
      .Set("mark_as_read_token", facts.mark_as_read_token)
      .Set("message_id", facts.message_id)
      .Set("message_type", facts.message_type);
  if (!facts.group_id.empty()) json.Set("group_id", facts.group_id);
  if (!facts.room_id.empty()) json.Set("room_id", facts.room_id);
  return json;
}

}  // namespace

HttpResponse ControlApi::Handle(const HttpRequest& request) const {
  const std::string& method = request.method;
  std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(request.path).substr(1), '/', absl::SkipEmpty());
  // parts[0] is "fake".
  if (parts.size() == 2 && parts[1] == "health") {
    if (method != "GET") return MethodNotAllowed("GET");
    return JsonResponse(200, JsonObject().Set("ok", true));
  }
  if (parts.size() == 2 && parts[1] == "faults") {
    if (method == "GET") return GetFaults();
    if (method == "PATCH") return PatchFaults(request);
    return MethodNotAllowed("GET, PATCH");
  }
  if (parts.size() == 2 && parts[1] == "clock") {
    if (method != "GET") return MethodNotAllowed("GET");
    return Clock();
  }
  if (parts.size() == 3 && parts[1] == "clock" && parts[2] == "advance") {
    if (method != "POST") return MethodNotAllowed("POST");
    return AdvanceClock(request);
  }
  if (parts.size() == 3 && parts[1] == "clock" && parts[2] == "freeze") {
    if (method != "POST") return MethodNotAllowed("POST");
    return FreezeClock(request);
  }
  if (auto answer = messaging_control_.Handle(request, parts)) return *std::move(answer);
  if (parts.size() >= 2 && parts[1] == "channels") {
    if (parts.size() == 2) {
      if (method == "GET") return ListChannels();
      if (method == "POST") return AddChannels(request);
      return MethodNotAllowed("GET, POST");
    }
    const std::string& id = parts[2];
    if (parts.size() == 3) {
      if (method == "GET") return GetChannel(id);
      if (method == "PATCH") return PatchChannel(id, request);
      return MethodNotAllowed("GET, PATCH");
    }
    if (parts.size() == 4 && parts[3] == "webhooks") {
      return method == "POST" ? SendWebhook(id, request) : MethodNotAllowed("POST");
    }
    if (parts.size() == 5 && parts[3] == "webhooks" && parts[4] == "redeliver") {
      return method == "POST" ? Redeliver(id, request) : MethodNotAllowed("POST");
    }
    if (parts.size() == 4 && parts[3] == "verify") {
      return method == "POST" ? Verify(id, request) : MethodNotAllowed("POST");
    }
  }
  return ControlError(404, absl::StrCat("no control endpoint ", request.path));
}

HttpResponse ControlApi::AddChannels(const HttpRequest& request) const {
  absl::StatusOr<std::vector<Channel>> channels = ParseChannels(request.body);
  if (!channels.ok()) return ControlStatusError(channels.status());
  if (absl::Status added = registry_->Upsert(*channels); !added.ok()) {
    return ControlStatusError(added);
  }
  // A replaced channel starts afresh, its users, tokens, sends and content included.
  for (const Channel& channel : *channels) stores_.Forget(channel.channel_id);
  return JsonResponse(200, JsonObject().Set("ok", true).Set("channels", channels->size()));
}

HttpResponse ControlApi::ListChannels() const {
  JsonArray ids;
  for (const std::string& id : registry_->ChannelIds()) ids.Add(id);
  return JsonResponse(200, JsonObject().Set("channel_ids", ids));
}

HttpResponse ControlApi::GetChannel(const std::string& channel_id) const {
  absl::StatusOr<ChannelState> state = registry_->Get(channel_id);
  if (!state.ok()) return ControlStatusError(state.status());
  return JsonResponse(200, StateJson(*state));
}

HttpResponse ControlApi::PatchChannel(const std::string& channel_id,
                                      const HttpRequest& request) const {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::object> body = ParseControlBody(parser, request.body);
  if (!body.ok()) return ControlStatusError(body.status());
  ChannelPatch patch;
  for (const auto& [raw_key, value] : *body) {
    const absl::string_view key = ToAbsl(raw_key);
    absl::Status status;
    if (key == "webhook_endpoint" || key == "basic_id" || key == "premium_id" ||
        key == "display_name" || key == "chat_mode" || key == "mark_as_read_mode" ||
        key == "default_rich_menu_id") {
      absl::StatusOr<std::string> text = JsonString(value, key);
      if (!text.ok()) return ControlStatusError(text.status());
      if (key == "webhook_endpoint") patch.webhook_endpoint = *text;
      if (key == "basic_id") patch.basic_id = *text;
      if (key == "premium_id") patch.premium_id = *text;
      if (key == "display_name") patch.display_name = *text;
      if (key == "chat_mode") patch.chat_mode = *text;
      if (key == "mark_as_read_mode") patch.mark_as_read_mode = *text;
      if (key == "default_rich_menu_id") patch.default_rich_menu_id = *text;
    } else if (key == "rich_menus") {
      absl::StatusOr<std::vector<RichMenu>> menus = ParseRichMenus(value);
      if (!menus.ok()) return ControlStatusError(menus.status());
      patch.rich_menus = *std::move(menus);
    } else if (key == "webhook_active" || key == "token_revoked" || key == "reissue_secret" ||
               key == "reissue_token") {
      absl::StatusOr<bool> flag = JsonBool(value, key);
      if (!flag.ok()) return ControlStatusError(flag.status());
      if (key == "webhook_active") patch.webhook_active = *flag;
      if (key == "token_revoked") patch.token_revoked = *flag;
      if (key == "reissue_secret") patch.reissue_secret = *flag;
      if (key == "reissue_token") patch.reissue_token = *flag;
    } else if (key == "fail_status" || key == "delay_ms") {
      absl::StatusOr<int64_t> number = JsonInt(value, key);
      if (!number.ok()) return ControlStatusError(number.status());
      if (key == "fail_status") {
        status = CheckFailStatus(*number);
        patch.fail_status = static_cast<int>(*number);
      } else {
        status = CheckDelay(*number);
        patch.delay_ms = *number;
      }
    } else {
      status = absl::InvalidArgumentError(absl::StrCat("unknown field \"", key, "\""));
    }
    if (!status.ok()) return ControlStatusError(status);
  }
  absl::StatusOr<ChannelState> state = registry_->Patch(channel_id, patch);
  if (!state.ok()) return ControlStatusError(state.status());
  return JsonResponse(200, StateJson(*state));
}

absl::StatusOr<ControlApi::WebhookCall> ControlApi::ReadWebhookCall(
    const std::string& channel_id, const HttpRequest& request, const FieldReader& other) const {
  absl::StatusOr<ChannelState> state = registry_->Get(channel_id);
  if (!state.ok()) return state.status();
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::object> body = ParseControlBody(parser, request.body);
  if (!body.ok()) return body.status();
  WebhookCall call{*std::move(state), {}};
  for (const auto& [raw_key, value] : *body) {
    const absl::string_view key = ToAbsl(raw_key);
    absl::StatusOr<bool> is_override = ReadOverride(key, value, call.overrides);
    if (!is_override.ok()) return is_override.status();
    if (*is_override) continue;
    if (absl::Status read = other(key, value); !read.ok()) return read;
  }
  return call;
}

HttpResponse ControlApi::SendWebhook(const std::string& channel_id,
                                     const HttpRequest& request) const {
  std::optional<std::string> raw_body;
  bool has_events = false;
  std::optional<Generate> generate;
  absl::StatusOr<WebhookCall> call = ReadWebhookCall(
      channel_id, request, [&](absl::string_view key, simdjson::dom::element value) {
        if (key == "events") {
          if (!value.is_array()) return absl::InvalidArgumentError("\"events\" must be an array");
          has_events = true;
        } else if (key == "raw_body") {
          absl::StatusOr<std::string> text = JsonString(value, key);
          if (!text.ok()) return text.status();
          raw_body = *std::move(text);
        } else if (key == "generate") {
          absl::StatusOr<Generate> parsed = ParseGenerate(value);
          if (!parsed.ok()) return parsed.status();
          generate = *std::move(parsed);
        } else {
          return UnknownField(key);
        }
        return absl::OkStatus();
      });
  if (!call.ok()) return ControlStatusError(call.status());
  const ChannelState* state = &call->state;
  const Overrides& overrides = call->overrides;
  if (static_cast<int>(has_events) + static_cast<int>(raw_body.has_value()) +
          static_cast<int>(generate.has_value()) >
      1) {
    return ControlError(400, "give at most one of \"events\", \"generate\" and \"raw_body\"");
  }

  Delivery delivery;
  const std::string destination = overrides.destination.value_or(state->channel.bot_user_id);
  if (raw_body.has_value()) {
    delivery.body = *raw_body;
    // Best effort: if the raw body carries events, remember them for redelivery.
    if (absl::StatusOr<std::string> events = RawMember(*raw_body, "events"); events.ok()) {
      if (auto split = SplitEvents(*events); split.ok()) delivery.events = *std::move(split);
    }
    for (const RawEvent& event : delivery.events) {
      delivery.facts.push_back(ReadEventFacts(event.json));
    }
  } else {
    if (has_events) {
      absl::StatusOr<std::string> events = RawMember(request.body, "events");
      if (!events.ok()) return ControlStatusError(events.status());
      absl::StatusOr<std::vector<RawEvent>> split = SplitEvents(*events);
      if (!split.ok()) return ControlStatusError(split.status());
      delivery.events = *std::move(split);
      for (const RawEvent& event : delivery.events) {
        delivery.facts.push_back(ReadEventFacts(event.json));
      }
    } else {
      const Generate what = generate.value_or(Generate());
      const absl::Time now = clock_->Now();
      for (int64_t i = 0; i < what.count; ++i) {
        GeneratedEvent event = GenerateEvent(what.spec, now, static_cast<int>(i + 1));
        delivery.events.push_back(std::move(event.raw));
        delivery.facts.push_back(std::move(event.facts));
      }
    }
    delivery.body = BuildWebhookBody(destination, delivery.events);
  }
  AddressAndSign(state->channel, overrides, delivery.body, delivery.endpoint, delivery.signature);
  return Deliver(*state, std::move(delivery));
}

HttpResponse ControlApi::Redeliver(const std::string& channel_id,
                                   const HttpRequest& request) const {
  std::string event_id;
  absl::StatusOr<WebhookCall> call = ReadWebhookCall(
      channel_id, request, [&](absl::string_view key, simdjson::dom::element value) {
        if (key != "webhook_event_id") return UnknownField(key);
        absl::StatusOr<std::string> id = JsonString(value, key);
        if (!id.ok()) return id.status();
        event_id = *std::move(id);
        return absl::OkStatus();
      });
  if (!call.ok()) return ControlStatusError(call.status());
  const ChannelState* state = &call->state;
  const Overrides& overrides = call->overrides;
  if (event_id.empty()) return ControlError(400, "\"webhook_event_id\" is required");
  std::optional<std::string> original = registry_->FindEvent(channel_id, event_id);
  if (!original.has_value()) {
    return ControlError(
        404, absl::StrCat("channel ", channel_id, " has no remembered event ", event_id));
  }
  absl::StatusOr<std::string> marked = MarkRedelivery(*original);
  if (!marked.ok()) return ControlStatusError(marked.status());

  Delivery delivery;
  delivery.events.push_back(RawEvent{*std::move(marked), event_id});
  delivery.body =
      BuildWebhookBody(overrides.destination.value_or(state->channel.bot_user_id), delivery.events);
  // The redelivered copy must not replace the original in memory.
  delivery.remember = false;
  AddressAndSign(state->channel, overrides, delivery.body, delivery.endpoint, delivery.signature);
  return Deliver(*state, std::move(delivery));
}

HttpResponse ControlApi::Verify(const std::string& channel_id, const HttpRequest& request) const {
  absl::StatusOr<WebhookCall> call = ReadWebhookCall(
      channel_id, request,
      [](absl::string_view key, simdjson::dom::element) { return UnknownField(key); });
  if (!call.ok()) return ControlStatusError(call.status());
  const ChannelState* state = &call->state;
  const Overrides& overrides = call->overrides;
  Delivery delivery;
  delivery.body = BuildWebhookBody(overrides.destination.value_or(state->channel.bot_user_id), {});
  AddressAndSign(state->channel, overrides, delivery.body, delivery.endpoint, delivery.signature);
  // The console's Verify button works whatever the "Use webhook" switch says.
  delivery.respect_webhook_active = false;
  return Deliver(*state, std::move(delivery));
}

HttpResponse ControlApi::Deliver(const ChannelState& state, Delivery delivery) const {
  JsonArray ids;
  for (const RawEvent& event : delivery.events) {
    if (!event.webhook_event_id.empty()) ids.Add(event.webhook_event_id);
  }
  JsonArray facts;
  for (size_t i = 0; i < delivery.facts.size(); ++i) {
    facts.Add(FactsJson(delivery.events[i].webhook_event_id, delivery.facts[i]));
  }
  JsonObject answer;
  answer.Set("endpoint", delivery.endpoint)
      .Set("signature", delivery.signature.value_or(""))
      .Set("webhook_event_ids", ids)
      .Set("events", facts);
  if (delivery.endpoint.empty()) {
    return ControlError(400,
                        absl::StrCat("channel ", state.channel.channel_id,
                                     " has no webhook endpoint; set one or pass \"endpoint\""));
  }
  if (delivery.respect_webhook_active && !state.channel.webhook_active) {
    return JsonResponse(200, answer.Set("sent", false)
                                 .Set("status", 0)
                                 .Set("body", "")
                                 .Set("latency_ms", 0)
                                 .Set("error",
                                      "\"Use webhook\" is off for this channel, so "
                                      "LINE sends no webhooks"));
  }
  // Before the POST: the endpoint may reply (or fetch content) while still answering it.
  const absl::Time now = clock_->Now();
  for (const EventFacts& event_facts : delivery.facts) {
    stores_.Remember(state.channel.channel_id, event_facts, now);
  }
  const HttpResult result = sender_->Send(delivery.endpoint, delivery.body, delivery.signature);
  if (delivery.remember) {
    std::vector<std::pair<std::string, std::string>> remembered;
    for (RawEvent& event : delivery.events) {
      if (!event.webhook_event_id.empty()) {
        remembered.emplace_back(event.webhook_event_id, std::move(event.json));
      }
    }
    registry_->RememberEvents(state.channel.channel_id, remembered);
  }
  return JsonResponse(200, answer.Set("sent", true)
                               .Set("status", result.status)
                               .Set("body", result.body)
                               .Set("latency_ms", absl::ToInt64Milliseconds(result.latency))
                               .Set("error", result.error));
}

HttpResponse ControlApi::GetFaults() const {
  return JsonResponse(200, FaultsJson(registry_->global_faults()));
}

HttpResponse ControlApi::PatchFaults(const HttpRequest& request) const {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::object> body = ParseControlBody(parser, request.body);
  if (!body.ok()) return ControlStatusError(body.status());
  Faults faults = registry_->global_faults();
  for (const auto& [raw_key, value] : *body) {
    const absl::string_view key = ToAbsl(raw_key);
    if (key != "fail_status" && key != "delay_ms") {
      return ControlError(400, absl::StrCat("unknown field \"", key, "\""));
    }
    absl::StatusOr<int64_t> number = JsonInt(value, key);
    if (!number.ok()) return ControlStatusError(number.status());
    absl::Status valid = key == "fail_status" ? CheckFailStatus(*number) : CheckDelay(*number);
    if (!valid.ok()) return ControlStatusError(valid);
    if (key == "fail_status") {
      faults.fail_status = static_cast<int>(*number);
    } else {
      faults.delay_ms = *number;
    }
  }
  registry_->SetGlobalFaults(faults);
  return JsonResponse(200, FaultsJson(faults));
}

HttpResponse ControlApi::Clock() const {
  return JsonResponse(200, JsonObject()
                               .Set("now", FormatRfc3339Millis(clock_->Now()))
                               .Set("offset_seconds", absl::ToInt64Seconds(clock_->offset()))
                               .Set("frozen", clock_->frozen()));
}

HttpResponse ControlApi::FreezeClock(const HttpRequest& request) const {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::element> element =
      OnlyField(parser, request.body, "frozen", "true|false");
  if (!element.ok()) return ControlStatusError(element.status());
  absl::StatusOr<bool> frozen = JsonBool(*element, "frozen");
  if (!frozen.ok()) return ControlStatusError(frozen.status());
  clock_->SetFrozen(*frozen);
  return Clock();
}

HttpResponse ControlApi::AdvanceClock(const HttpRequest& request) const {
  simdjson::dom::parser parser;
  absl::StatusOr<simdjson::dom::element> element = OnlyField(parser, request.body, "seconds", "N");
  if (!element.ok()) return ControlStatusError(element.status());
  absl::StatusOr<int64_t> seconds = JsonInt(*element, "seconds");
  if (!seconds.ok()) return ControlStatusError(seconds.status());
  if (*seconds < 0) return ControlError(400, "\"seconds\" must not be negative");
  clock_->Advance(absl::Seconds(*seconds));
  return Clock();
}

}  // namespace linechannel::fake_line
