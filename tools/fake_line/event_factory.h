#ifndef LINECHANNEL_TOOLS_FAKE_LINE_EVENT_FACTORY_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_EVENT_FACTORY_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/fake_line/webhook_body.h"

namespace linechannel::fake_line {

// Makes one realistic webhook event of `type` happening at `now`, written as LINE writes it.
// Every event has type, timestamp (ms), mode "active", a fresh ULID webhookEventId,
// deliveryContext.isRedelivery false and a user source with a random "U" + 32 hex user id.
// Payloads by type: "message" -> a text message (id, quoteToken, text mixing ASCII, Japanese
// and emoji, numbered with `index`) and a replyToken; "follow" -> follow.isUnblocked false and a
// replyToken; "postback" -> postback.data and a replyToken; "unfollow" and any other (unknown)
// type -> the common fields only. Non-ASCII characters are \uXXXX escapes (surrogate pairs
// for emoji), as in LINE's own bodies. Thread-safe.
RawEvent GenerateEvent(absl::string_view type, absl::Time now, int index);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_EVENT_FACTORY_H_
