#include "server/messaging/message_checks.h"

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "simdjson.h"

namespace linechannel::server {
namespace {

// LINE's limits (Messaging API reference, message objects). Lengths are in UTF-16 code units,
// which is how LINE counts characters.
constexpr int64_t kMaxTextUnits = 5000;
constexpr int64_t kMaxUrlBytes = 2000;
constexpr int64_t kMaxLocationUnits = 100;
constexpr int64_t kMaxTemplateAltTextUnits = 400;
constexpr int64_t kMaxImagemapAltTextUnits = 1500;
constexpr int64_t kMaxClipboardTextUnits = 1000;
constexpr int64_t kMaxSenderNameUnits = 20;
constexpr int64_t kMaxCouponDeliveryTagUnits = 30;
constexpr size_t kMaxQuickReplyItems = 13;
constexpr size_t kMaxImagemapActions = 50;
constexpr size_t kMaxButtonsActions = 4;
constexpr size_t kConfirmActions = 2;
constexpr size_t kMaxCarouselColumns = 10;
constexpr size_t kMaxFlexCarouselBubbles = 12;
constexpr size_t kMaxSubstitutionKeyLength = 20;

constexpr char kTypes[] =
    "text, textV2, sticker, image, video, audio, location, imagemap, template, flex or coupon";
constexpr char kExample[] = R"(for example {"type":"text","text":"Hello"})";

using Violations = std::vector<FieldViolation>;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// simdjson speaks std::string_view; this Abseil has its own string_view.
absl::string_view Absl(std::string_view text) { return {text.data(), text.size()}; }

// UTF-16 code units of valid UTF-8 (simdjson has validated it): one per character, two for
// a character outside the Basic Multilingual Plane (a four-byte sequence).
int64_t Utf16Units(std::string_view utf8) {
  int64_t units = 0;
  for (char c : utf8) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte & 0xc0) == 0x80) continue;
    units += byte >= 0xf0 ? 2 : 1;
  }
  return units;
}

// Where in the request a JSON value sits ("messages[1].template"), and the list its
// violations go to. Descriptions are made of fixed words and numbers only, so no message
// text or URL is ever quoted back.
class Scope {
 public:
  Scope(std::string path, Violations* out) : path_(std::move(path)), out_(out) {}

  Scope Key(std::string_view key) const { return Scope(absl::StrCat(path_, ".", Absl(key)), out_); }
  Scope Index(size_t i) const { return Scope(absl::StrCat(path_, "[", i, "]"), out_); }
  void Report(std::string description) const { out_->push_back({path_, std::move(description)}); }

 private:
  std::string path_;
  Violations* out_;
};

const char* TypeName(element_type type) {
  switch (type) {
    case element_type::ARRAY:
      return "an array";
    case element_type::OBJECT:
      return "an object";
    case element_type::STRING:
      return "a string";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      return "a number";
    case element_type::BOOL:
      return "a boolean";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "something else";
}

bool IsNumber(element value) {
  const element_type type = value.type();
  return type == element_type::INT64 || type == element_type::UINT64 ||
         type == element_type::DOUBLE;
}

// The field `key` of `parent`, or nullopt after reporting it missing when `required`.
std::optional<element> Field(object parent, std::string_view key, const Scope& scope,
                             bool required) {
  element value;
  if (parent[key].get(value) != simdjson::SUCCESS) {
    if (required) scope.Report("required");
    return std::nullopt;
  }
  return value;
}

// A string of `min_units` to `max_units` UTF-16 code units (max_units 0: no upper limit).
std::optional<std::string_view> StringField(object parent, std::string_view key,
                                            const Scope& parent_scope, bool required,
                                            int64_t min_units, int64_t max_units) {
  const Scope scope = parent_scope.Key(key);
  const std::optional<element> value = Field(parent, key, scope, required);
  if (!value) return std::nullopt;
  std::string_view text;
  if (value->get_string().get(text) != simdjson::SUCCESS) {
    scope.Report(absl::StrCat("must be a string, not ", TypeName(value->type())));
    return std::nullopt;
  }
  const int64_t units = Utf16Units(text);
  if (units < min_units || (max_units > 0 && units > max_units)) {
    std::string limit = max_units > 0 ? absl::StrCat(min_units, "-", max_units, " characters")
                                      : absl::StrCat("at least ", min_units, " character");
    scope.Report(absl::StrCat("must be ", limit,
                              " (UTF-16 code units, as LINE counts: an emoji counts 2); it has ",
                              units));
    return std::nullopt;
  }
  return text;
}

std::optional<std::string_view> RequiredString(object parent, std::string_view key,
                                               const Scope& scope, int64_t max_units = 0) {
  return StringField(parent, key, scope, /*required=*/true, 1, max_units);
}

// An HTTPS URL of at most 2,000 bytes with a host, as LINE takes for media.
void UrlField(object parent, std::string_view key, const Scope& parent_scope, bool required) {
  const Scope scope = parent_scope.Key(key);
  const std::optional<element> value = Field(parent, key, scope, required);
  if (!value) return;
  std::string_view url;
  if (value->get_string().get(url) != simdjson::SUCCESS) {
    scope.Report(absl::StrCat("must be an https:// URL string, not ", TypeName(value->type())));
    return;
  }
  std::string_view rest = url;
  const bool https = absl::StartsWithIgnoreCase(Absl(rest), "https://");
  if (https) rest.remove_prefix(8);
  const bool has_host =
      !rest.empty() && rest.front() != '/' && rest.front() != '?' && rest.front() != '#';
  bool clean = true;
  for (char c : url) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) clean = false;
  }
  if (!https || !has_host || !clean) {
    scope.Report(
        "must be an https:// URL with a host and no spaces or control characters (LINE fetches "
        "media over HTTPS only)");
  } else if (url.size() > kMaxUrlBytes) {
    scope.Report(
        absl::StrCat("must be at most ", kMaxUrlBytes, " characters; it has ", url.size()));
  }
}

// A JSON number within [min, max]: latitudes and longitudes.
void NumberField(object parent, std::string_view key, const Scope& parent_scope, double min,
                 double max) {
  const Scope scope = parent_scope.Key(key);
  const std::optional<element> value = Field(parent, key, scope, /*required=*/true);
  if (!value) return;
  double number = 0;
  if (!IsNumber(*value) || value->get_double().get(number) != simdjson::SUCCESS) {
    scope.Report(absl::StrCat("must be a number, not ", TypeName(value->type())));
  } else if (number < min || number > max) {
    scope.Report(absl::StrCat("must be from ", min, " to ", max));
  }
}

// A whole JSON number of at least `min`: sizes, positions, durations.
void IntegerField(object parent, std::string_view key, const Scope& parent_scope, int64_t min) {
  const Scope scope = parent_scope.Key(key);
  const std::optional<element> value = Field(parent, key, scope, /*required=*/true);
  if (!value) return;
  int64_t number = 0;
  if (value->type() == element_type::UINT64) return;  // Above INT64_MAX: large, but whole.
  if (value->get_int64().get(number) != simdjson::SUCCESS) {
    scope.Report(absl::StrCat("must be a whole number, not ",
                              IsNumber(*value) ? "a fraction" : TypeName(value->type())));
  } else if (number < min) {
    scope.Report(absl::StrCat("must be at least ", min));
  }
}

std::optional<object> ObjectField(object parent, std::string_view key, const Scope& scope,
                                  bool required) {
  const std::optional<element> value = Field(parent, key, scope, required);
  if (!value) return std::nullopt;
  object result;
  if (value->get_object().get(result) != simdjson::SUCCESS) {
    scope.Report(absl::StrCat("must be an object, not ", TypeName(value->type())));
    return std::nullopt;
  }
  return result;
}

// What an array of `size` elements breaks: `min_items` to `max_items` (0: no upper limit).
std::string CountRule(size_t min_items, size_t max_items, size_t size) {
  if (max_items == 0) return absl::StrCat("must have at least ", min_items, " element");
  if (min_items == 0) {
    return absl::StrCat("must have at most ", max_items, " elements; it has ", size);
  }
  if (min_items == max_items) {
    return absl::StrCat("must have exactly ", min_items, " elements; it has ", size);
  }
  return absl::StrCat("must have ", min_items, "-", max_items, " elements; it has ", size);
}

// An array of `min_items` to `max_items` elements (max_items 0: no upper limit).
std::optional<array> ArrayField(object parent, std::string_view key, const Scope& scope,
                                bool required, size_t min_items, size_t max_items) {
  const std::optional<element> value = Field(parent, key, scope, required);
  if (!value) return std::nullopt;
  array result;
  if (value->get_array().get(result) != simdjson::SUCCESS) {
    scope.Report(absl::StrCat("must be an array, not ", TypeName(value->type())));
    return std::nullopt;
  }
  const size_t size = result.size();
  if (size < min_items || (max_items > 0 && size > max_items)) {
    scope.Report(CountRule(min_items, max_items, size));
    return std::nullopt;
  }
  return result;
}

// Calls `check(element_object, element_scope)` for each element of `items`, reporting those
// that are not objects.
template <typename Check>
void ForEachObject(array items, const Scope& scope, Check check) {
  size_t i = 0;
  for (element item : items) {
    const Scope item_scope = scope.Index(i++);
    object item_object;
    if (item.get_object().get(item_object) != simdjson::SUCCESS) {
      item_scope.Report(absl::StrCat("must be an object, not ", TypeName(item.type())));
      continue;
    }
    check(item_object, item_scope);
  }
}

// The `type` of an object, reported when missing or not one of `known`.
std::optional<std::string_view> KindField(object parent, const Scope& parent_scope,
                                          std::initializer_list<std::string_view> known,
                                          std::string_view known_text) {
  const Scope scope = parent_scope.Key("type");
  const std::optional<element> value = Field(parent, "type", scope, /*required=*/false);
  std::string_view kind;
  if (!value) {
    scope.Report(absl::StrCat("required: one of ", Absl(known_text)));
    return std::nullopt;
  }
  if (value->get_string().get(kind) != simdjson::SUCCESS ||
      std::find(known.begin(), known.end(), kind) == known.end()) {
    scope.Report(absl::StrCat("must be one of ", Absl(known_text)));
    return std::nullopt;
  }
  return kind;
}

void CheckObjectArray(object parent, std::string_view key, const Scope& scope, size_t min_items,
                      size_t max_items) {
  const Scope actions_scope = scope.Key(key);
  if (auto actions = ArrayField(parent, key, actions_scope, true, min_items, max_items)) {
    ForEachObject(*actions, actions_scope, [](object, const Scope&) {});
  }
}

// --- One function per message type: the fields that type requires. ---

void CheckText(object message, const Scope& scope) {
  RequiredString(message, "text", scope, kMaxTextUnits);
}

bool IsSubstitutionKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxSubstitutionKeyLength) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

void CheckTextV2(object message, const Scope& scope) {
  RequiredString(message, "text", scope, kMaxTextUnits);
  const Scope substitution_scope = scope.Key("substitution");
  const auto substitution = ObjectField(message, "substitution", substitution_scope, false);
  if (!substitution) return;
  for (auto [key, value] : *substitution) {
    // A key is named in the field path only when it is a plain placeholder name; anything
    // else stays unquoted.
    const Scope entry = IsSubstitutionKey(key) ? substitution_scope.Key(key) : substitution_scope;
    object entry_object;
    if (value.get_object().get(entry_object) != simdjson::SUCCESS) {
      entry.Report(
          absl::StrCat("each substitution must be an object, not ", TypeName(value.type())));
      continue;
    }
    const auto kind = KindField(entry_object, entry, {"mention", "emoji"}, "mention or emoji");
    if (kind == "emoji") {
      RequiredString(entry_object, "productId", entry);
      RequiredString(entry_object, "emojiId", entry);
    } else if (kind == "mention") {
      const Scope mentionee_scope = entry.Key("mentionee");
      const auto mentionee = ObjectField(entry_object, "mentionee", mentionee_scope, true);
      if (mentionee &&
          KindField(*mentionee, mentionee_scope, {"user", "all"}, "user or all") == "user") {
        RequiredString(*mentionee, "userId", mentionee_scope);
      }
    }
  }
}

void CheckSticker(object message, const Scope& scope) {
  RequiredString(message, "packageId", scope);
  RequiredString(message, "stickerId", scope);
}

void CheckImage(object message, const Scope& scope) {
  UrlField(message, "originalContentUrl", scope, true);
  UrlField(message, "previewImageUrl", scope, true);
}

void CheckVideo(object message, const Scope& scope) {
  CheckImage(message, scope);
  StringField(message, "trackingId", scope, /*required=*/false, 1, 0);
}

void CheckAudio(object message, const Scope& scope) {
  UrlField(message, "originalContentUrl", scope, true);
  IntegerField(message, "duration", scope, 0);
}

void CheckLocation(object message, const Scope& scope) {
  RequiredString(message, "title", scope, kMaxLocationUnits);
  RequiredString(message, "address", scope, kMaxLocationUnits);
  NumberField(message, "latitude", scope, -90, 90);
  NumberField(message, "longitude", scope, -180, 180);
}

void CheckImagemapAction(object action, const Scope& scope) {
  const auto kind =
      KindField(action, scope, {"message", "uri", "clipboard"}, "message, uri or clipboard");
  const Scope area_scope = scope.Key("area");
  if (auto area = ObjectField(action, "area", area_scope, true)) {
    for (std::string_view key : {"x", "y", "width", "height"}) {
      IntegerField(*area, key, area_scope, key == "width" || key == "height" ? 1 : 0);
    }
  }
  if (kind == "message") RequiredString(action, "text", scope);
  if (kind == "uri") RequiredString(action, "linkUri", scope);
  if (kind == "clipboard") RequiredString(action, "clipboardText", scope, kMaxClipboardTextUnits);
}

void CheckImagemap(object message, const Scope& scope) {
  UrlField(message, "baseUrl", scope, true);
  RequiredString(message, "altText", scope, kMaxImagemapAltTextUnits);
  const Scope size_scope = scope.Key("baseSize");
  if (auto size = ObjectField(message, "baseSize", size_scope, true)) {
    IntegerField(*size, "width", size_scope, 1);
    IntegerField(*size, "height", size_scope, 1);
  }
  const Scope actions_scope = scope.Key("actions");
  if (auto actions = ArrayField(message, "actions", actions_scope, true, 1, kMaxImagemapActions)) {
    ForEachObject(*actions, actions_scope, CheckImagemapAction);
  }
}

void CheckTemplate(object message, const Scope& scope) {
  RequiredString(message, "altText", scope, kMaxTemplateAltTextUnits);
  const Scope template_scope = scope.Key("template");
  const auto body = ObjectField(message, "template", template_scope, true);
  if (!body) return;
  const auto kind =
      KindField(*body, template_scope, {"buttons", "confirm", "carousel", "image_carousel"},
                "buttons, confirm, carousel or image_carousel");
  if (kind == "buttons" || kind == "confirm") {
    RequiredString(*body, "text", template_scope);
    CheckObjectArray(*body, "actions", template_scope, kind == "buttons" ? 1 : kConfirmActions,
                     kind == "buttons" ? kMaxButtonsActions : kConfirmActions);
  } else if (kind == "carousel" || kind == "image_carousel") {
    const Scope columns_scope = template_scope.Key("columns");
    const auto columns = ArrayField(*body, "columns", columns_scope, true, 1, kMaxCarouselColumns);
    if (!columns) return;
    const bool images = kind == "image_carousel";
    ForEachObject(*columns, columns_scope, [images](object column, const Scope& column_scope) {
      if (images) {
        UrlField(column, "imageUrl", column_scope, true);
        ObjectField(column, "action", column_scope.Key("action"), true);
      } else {
        RequiredString(column, "text", column_scope);
        CheckObjectArray(column, "actions", column_scope, 1, 0);
      }
    });
  }
}

void CheckFlex(object message, const Scope& scope) {
  RequiredString(message, "altText", scope, kMaxTemplateAltTextUnits);
  const Scope contents_scope = scope.Key("contents");
  const auto contents = ObjectField(message, "contents", contents_scope, true);
  if (!contents) return;
  if (KindField(*contents, contents_scope, {"bubble", "carousel"}, "bubble or carousel") !=
      "carousel") {
    return;
  }
  const Scope bubbles_scope = contents_scope.Key("contents");
  if (auto bubbles =
          ArrayField(*contents, "contents", bubbles_scope, true, 1, kMaxFlexCarouselBubbles)) {
    ForEachObject(*bubbles, bubbles_scope, [](object bubble, const Scope& bubble_scope) {
      KindField(bubble, bubble_scope, {"bubble"}, "bubble");
    });
  }
}

void CheckCoupon(object message, const Scope& scope) {
  RequiredString(message, "couponId", scope);
  StringField(message, "deliveryTag", scope, /*required=*/false, 1, kMaxCouponDeliveryTagUnits);
}

// Properties every message type may carry.
void CheckCommon(object message, const Scope& scope) {
  const Scope quick_reply_scope = scope.Key("quickReply");
  if (auto quick_reply = ObjectField(message, "quickReply", quick_reply_scope, false)) {
    const Scope items_scope = quick_reply_scope.Key("items");
    if (auto items =
            ArrayField(*quick_reply, "items", items_scope, false, 0, kMaxQuickReplyItems)) {
      ForEachObject(*items, items_scope, [](object, const Scope&) {});
    }
  }
  const Scope sender_scope = scope.Key("sender");
  if (auto sender = ObjectField(message, "sender", sender_scope, false)) {
    StringField(*sender, "name", sender_scope, /*required=*/false, 1, kMaxSenderNameUnits);
    UrlField(*sender, "iconUrl", sender_scope, /*required=*/false);
  }
}

struct MessageType {
  std::string_view name;
  void (*check)(object message, const Scope& scope);
};

constexpr MessageType kMessageTypes[] = {
    {"text", CheckText},         {"textV2", CheckTextV2},     {"sticker", CheckSticker},
    {"image", CheckImage},       {"video", CheckVideo},       {"audio", CheckAudio},
    {"location", CheckLocation}, {"imagemap", CheckImagemap}, {"template", CheckTemplate},
    {"flex", CheckFlex},         {"coupon", CheckCoupon},
};

void CheckMessage(simdjson::dom::parser& parser, const std::string& text, const Scope& scope) {
  element root;
  if (const auto error = parser.parse(text.data(), text.size()).get(root); error) {
    scope.Report(error == simdjson::EMPTY
                     ? absl::StrCat("is empty: give one LINE message object, ", kExample)
                     : absl::StrCat("is not one valid JSON object (",
                                    simdjson::error_message(error),
                                    "): give one LINE message object, ", kExample));
    return;
  }
  object message;
  if (root.get_object().get(message) != simdjson::SUCCESS) {
    scope.Report(
        absl::StrCat("must be one JSON object, not ", TypeName(root.type()), ": ", kExample));
    return;
  }
  const Scope type_scope = scope.Key("type");
  const std::optional<element> type = Field(message, "type", type_scope, /*required=*/false);
  std::string_view name;
  const MessageType* known = nullptr;
  if (type && type->get_string().get(name) == simdjson::SUCCESS) {
    for (const MessageType& candidate : kMessageTypes) {
      if (candidate.name == name) known = &candidate;
    }
  }
  if (known != nullptr) {
    known->check(message, scope);
  } else {
    type_scope.Report(
        absl::StrCat(type ? "must be" : "required:", " one of LINE's message types: ", kTypes));
  }
  CheckCommon(message, scope);
}

}  // namespace

std::vector<FieldViolation> CheckMessages(const std::vector<std::string>& messages,
                                          absl::string_view field) {
  Violations violations;
  if (messages.empty() || messages.size() > static_cast<size_t>(kMaxMessagesPerSend)) {
    violations.push_back({std::string(field), absl::StrCat("must have 1 to ", kMaxMessagesPerSend,
                                                           " messages; it has ", messages.size())});
  }
  simdjson::dom::parser parser;
  for (size_t i = 0; i < messages.size(); ++i) {
    CheckMessage(parser, messages[i], Scope(absl::StrCat(field, "[", i, "]"), &violations));
  }
  return violations;
}

std::string MessagesJsonArray(const std::vector<std::string>& messages) {
  return absl::StrCat("[", absl::StrJoin(messages, ","), "]");
}

}  // namespace linechannel::server
