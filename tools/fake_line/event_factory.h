#ifndef LINECHANNEL_TOOLS_FAKE_LINE_EVENT_FACTORY_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_EVENT_FACTORY_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/fake_line/webhook_body.h"

namespace linechannel::fake_line {

// What to generate. Empty ids mean "invent one".
struct EventSpec {
  std::string type = "message";
  // For "message" events: "text", "image", "video", "audio" or "file".
  std::string message_type = "text";
  std::string user_id;   // The customer: "U" + 32 hex.
  std::string group_id;  // Set: the event happens in this group ("C" + 32 hex).
  std::string room_id;   // Set (and no group): in this multi-person chat ("R" + 32 hex).
  // Size of an image, video, audio or file message's content; -1: the type's default.
  int64_t content_size = -1;
};

// The facts about an event that LINE's outbound calls later depend on. Empty strings mean
// "none" (a follow event has no message, an unfollow no reply token).
struct EventFacts {
  std::string user_id;
  std::string group_id;
  std::string room_id;
  std::string reply_token;
  std::string mark_as_read_token;
  std::string message_id;
  std::string message_type;
  int64_t content_size = 0;  // Content messages only.
  std::string file_name;     // File messages only.
};

// An event as sent, with its facts.
struct GeneratedEvent {
  RawEvent raw;
  EventFacts facts;
};

// The default content size of a message type (0 for types without content).
int64_t DefaultContentSize(absl::string_view message_type);

// True for the message types whose content the fake serves.
bool HasContent(absl::string_view message_type);

// Makes one realistic webhook event as `spec` says, happening at `now`, written as LINE writes
// it. Every event has type, timestamp (ms), mode "active", a fresh ULID webhookEventId,
// deliveryContext.isRedelivery false and a source (user, group or room, with the userId).
// Payloads by type: "message" -> a message with id, quoteToken (not for audio/file) and
// markAsReadToken, plus a replyToken; text messages mix ASCII, Japanese and emoji (numbered
// with `index`), image/video/audio carry contentProvider {"type":"line"} (video/audio a
// duration), file messages fileName and fileSize; "follow" -> follow.isUnblocked false and a
// replyToken; "postback" -> postback.data and a replyToken; "unfollow" and any other (unknown)
// type -> the common fields only. Non-ASCII characters are \uXXXX escapes (surrogate pairs for
// emoji), as in LINE's own bodies. Thread-safe.
GeneratedEvent GenerateEvent(const EventSpec& spec, absl::Time now, int index);

// The same with only a type (a text message for "message"), for callers that need no more.
RawEvent GenerateEvent(absl::string_view type, absl::Time now, int index);

// Reads the facts out of an event given verbatim (as JSON text); fields it lacks stay empty.
// An event that is not a JSON object yields no facts.
EventFacts ReadEventFacts(absl::string_view event_json);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_EVENT_FACTORY_H_
