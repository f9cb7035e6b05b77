#ifndef LINECHANNEL_TOOLS_FAKE_LINE_MESSAGING_STORES_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_MESSAGING_STORES_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tools/fake_line/audience.h"
#include "tools/fake_line/event_factory.h"
#include "tools/fake_line/media_library.h"
#include "tools/fake_line/outbox.h"
#include "tools/fake_line/scripted_faults.h"

namespace linechannel::fake_line {

// The per-channel state behind LINE's outbound calls, handed around together. The pointers
// are not owned and must outlive every user; each store is thread-safe on its own.
struct MessagingStores {
  Audience* audience = nullptr;
  Outbox* outbox = nullptr;
  MediaLibrary* media = nullptr;
  FaultScript* faults = nullptr;

  // Remembers what an event sent to the channel at `now` makes usable later: its user (and
  // group or room), its reply token and mark-as-read token, and its message's content.
  void Remember(absl::string_view channel_id, const EventFacts& facts, absl::Time now) const;
  // Forgets everything about the channel (it was replaced).
  void Forget(absl::string_view channel_id) const;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_MESSAGING_STORES_H_
