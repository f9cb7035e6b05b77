#include "tools/fake_line/event_factory.h"

#include <simdjson.h>

#include "absl/strings/str_cat.h"
#include "tools/fake_line/json_reader.h"
#include "tools/fake_line/json_writer.h"
#include "tools/fake_line/random_ids.h"

namespace linechannel::fake_line {
namespace {

// Sizes close to what phones send: a compressed photo, a short clip, a voice note, a PDF.
constexpr int64_t kDefaultImageBytes = 180 << 10;
constexpr int64_t kDefaultVideoBytes = 2 << 20;
constexpr int64_t kDefaultAudioBytes = 96 << 10;
constexpr int64_t kDefaultFileBytes = 320 << 10;

JsonObject MessageJson(const EventSpec& spec, int index, EventFacts& facts) {
  facts.message_id = RandomDigits(18);
  facts.message_type = spec.message_type;
  facts.mark_as_read_token = RandomToken(32);
  JsonObject message;
  message.Set("type", spec.message_type)
      .Set("id", facts.message_id)
      .Set("markAsReadToken", facts.mark_as_read_token);
  // LINE gives no quote token to audio and file messages: they cannot be quoted.
  if (spec.message_type != "audio" && spec.message_type != "file") {
    message.Set("quoteToken", RandomToken(48));
  }
  if (!HasContent(spec.message_type)) {
    // "Hello <waving hand> konnichiwa (in hiragana) <sushi> #<index>": emoji outside the BMP
    // (surrogate pairs once escaped) around BMP text.
    message.Set("text", absl::StrCat("Hello \U0001F44B \u3053\u3093\u306B\u3061\u306F \U0001F363 #",
                                     index));
    return message;
  }
  facts.content_size =
      spec.content_size >= 0 ? spec.content_size : DefaultContentSize(spec.message_type);
  if (spec.message_type == "file") {
    facts.file_name = absl::StrCat("document-", index, ".pdf");
    message.Set("fileName", facts.file_name).Set("fileSize", facts.content_size);
    return message;
  }
  message.Set("contentProvider", JsonObject().Set("type", "line"));
  if (spec.message_type != "image") message.Set("duration", 4000 + index);
  return message;
}

JsonObject SourceJson(const EventFacts& facts) {
  JsonObject source;
  if (!facts.group_id.empty()) {
    source.Set("type", "group").Set("groupId", facts.group_id);
  } else if (!facts.room_id.empty()) {
    source.Set("type", "room").Set("roomId", facts.room_id);
  } else {
    source.Set("type", "user");
  }
  return source.Set("userId", facts.user_id);
}

std::string StringAt(simdjson::dom::element root, const char* pointer) {
  std::string_view value;
  if (root.at_pointer(pointer).get_string().get(value)) return "";
  return std::string(value);
}

}  // namespace

int64_t DefaultContentSize(absl::string_view message_type) {
  if (message_type == "image") return kDefaultImageBytes;
  if (message_type == "video") return kDefaultVideoBytes;
  if (message_type == "audio") return kDefaultAudioBytes;
  if (message_type == "file") return kDefaultFileBytes;
  return 0;
}

bool HasContent(absl::string_view message_type) {
  return message_type == "image" || message_type == "video" || message_type == "audio" ||
         message_type == "file";
}

GeneratedEvent GenerateEvent(const EventSpec& spec, absl::Time now, int index) {
  GeneratedEvent event;
  EventFacts& facts = event.facts;
  event.raw.webhook_event_id = NewUlid(now);
  facts.user_id = spec.user_id.empty() ? "U" + RandomHex(32) : spec.user_id;
  facts.group_id = spec.group_id;
  facts.room_id = spec.group_id.empty() ? spec.room_id : "";

  JsonObject json;
  json.Set("type", spec.type)
      .Set("timestamp", absl::ToUnixMillis(now))
      .Set("mode", "active")
      .Set("webhookEventId", event.raw.webhook_event_id)
      .Set("deliveryContext", JsonObject().Set("isRedelivery", false))
      .Set("source", SourceJson(facts));
  if (spec.type == "message" || spec.type == "follow" || spec.type == "postback") {
    facts.reply_token = RandomHex(32);
    json.Set("replyToken", facts.reply_token);
  }
  if (spec.type == "message") {
    json.Set("message", MessageJson(spec, index, facts));
  } else if (spec.type == "follow") {
    json.Set("follow", JsonObject().Set("isUnblocked", false));
  } else if (spec.type == "postback") {
    json.Set("postback", JsonObject().Set("data", absl::StrCat("action=buy&itemid=", index)));
  }
  // protobuf's printer writes non-ASCII as raw UTF-8; LINE escapes it.
  event.raw.json = EscapeNonAscii(json.ToString());
  return event;
}

RawEvent GenerateEvent(absl::string_view type, absl::Time now, int index) {
  EventSpec spec;
  spec.type = std::string(type);
  return GenerateEvent(spec, now, index).raw;
}

EventFacts ReadEventFacts(absl::string_view event_json) {
  EventFacts facts;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(event_json.data(), event_json.size()).get(root) || !root.is_object()) {
    return facts;
  }
  facts.user_id = StringAt(root, "/source/userId");
  facts.group_id = StringAt(root, "/source/groupId");
  facts.room_id = StringAt(root, "/source/roomId");
  facts.reply_token = StringAt(root, "/replyToken");
  facts.mark_as_read_token = StringAt(root, "/message/markAsReadToken");
  facts.message_id = StringAt(root, "/message/id");
  facts.message_type = StringAt(root, "/message/type");
  facts.file_name = StringAt(root, "/message/fileName");
  if (HasContent(facts.message_type)) {
    int64_t size = -1;
    if (root.at_pointer("/message/fileSize").get_int64().get(size) || size < 0) {
      size = DefaultContentSize(facts.message_type);
    }
    facts.content_size = size;
  }
  return facts;
}

}  // namespace linechannel::fake_line
