#include "tools/fake_line/event_factory.h"

#include "absl/strings/str_cat.h"
#include "tools/fake_line/json_writer.h"
#include "tools/fake_line/random_ids.h"

namespace linechannel::fake_line {

RawEvent GenerateEvent(absl::string_view type, absl::Time now, int index) {
  RawEvent event;
  event.webhook_event_id = NewUlid(now);

  JsonObject json;
  json.Set("type", type)
      .Set("timestamp", absl::ToUnixMillis(now))
      .Set("mode", "active")
      .Set("webhookEventId", event.webhook_event_id)
      .Set("deliveryContext", JsonObject().Set("isRedelivery", false))
      .Set("source", JsonObject().Set("type", "user").Set("userId", "U" + RandomHex(32)));
  if (type == "message") {
    // "Hello <waving hand> konnichiwa (in hiragana) <sushi> #<index>": emoji outside the BMP
    // (surrogate pairs once escaped) around BMP text.
    const std::string text =
        absl::StrCat("Hello \U0001F44B \u3053\u3093\u306B\u3061\u306F \U0001F363 #", index);
    json.Set("replyToken", RandomHex(32))
        .Set("message", JsonObject()
                            .Set("type", "text")
                            .Set("id", RandomDigits(18))
                            .Set("quoteToken", RandomToken(48))
                            .Set("text", text));
  } else if (type == "follow") {
    json.Set("replyToken", RandomHex(32)).Set("follow", JsonObject().Set("isUnblocked", false));
  } else if (type == "postback") {
    json.Set("replyToken", RandomHex(32))
        .Set("postback", JsonObject().Set("data", absl::StrCat("action=buy&itemid=", index)));
  }
  // protobuf's printer writes non-ASCII as raw UTF-8; LINE escapes it.
  event.json = EscapeNonAscii(json.ToString());
  return event;
}

}  // namespace linechannel::fake_line
