#ifndef LINECHANNEL_TOOLS_FAKE_LINE_SCRIPTED_FAULTS_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_SCRIPTED_FAULTS_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace linechannel::fake_line {

// One injected failure of one call.
struct ScriptedFault {
  enum class Kind {
    kStatus,   // Answer `status` (500, 503 or 429) in LINE's error shape.
    kTimeout,  // Answer nothing for `hold` (or until released), then close the connection.
    kDrop,     // Close the connection at once without answering.
  };
  Kind kind = Kind::kStatus;
  int status = 500;
  int64_t retry_after_seconds = 1;  // 429 only: the Retry-After header.
  absl::Duration hold = absl::Seconds(60);
  // false: LINE refused the call, so nothing happened. true: LINE did the work (the message
  // was sent, the retry key taken) and only the answer was lost.
  bool after_accept = false;
};

// "500", "503", "429", "timeout" or "drop", as the control API names a fault.
std::string FaultName(const ScriptedFault& fault);

// Faults scripted for the next calls of an endpoint of a channel, used up in order, plus the
// release switch for calls held by a kTimeout fault. Thread-safe.
class FaultScript {
 public:
  struct Pending {
    std::string endpoint;
    ScriptedFault fault;
    int64_t remaining = 0;
  };

  // The next `count` calls of `endpoint` (a key of kCallKeys) on the channel fail with `fault`,
  // after any faults already queued for that endpoint.
  void Add(absl::string_view channel_id, absl::string_view endpoint, const ScriptedFault& fault,
           int64_t count);
  // Uses up the fault for this call, if one is queued.
  std::optional<ScriptedFault> Take(absl::string_view channel_id, absl::string_view endpoint);
  // What is still queued for the channel, endpoint by endpoint in queue order.
  std::vector<Pending> List(absl::string_view channel_id) const;
  void Clear(absl::string_view channel_id);

  // Blocks for at most `hold`, until Release(), or until `stopping` is notified.
  void Hold(absl::Duration hold, const absl::Notification* stopping);
  // First waits (up to `max_wait`) until at least `wait_for` calls are blocked in Hold(), so a
  // test can release a call it knows is on its way; then wakes every blocked call and returns
  // how many there were.
  int64_t Release(int64_t wait_for, absl::Duration max_wait);

 private:
  mutable absl::Mutex mu_;
  // Channel id -> endpoint -> queue.
  absl::flat_hash_map<std::string, absl::flat_hash_map<std::string, std::deque<Pending>>> queues_
      ABSL_GUARDED_BY(mu_);
  int64_t release_generation_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t held_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_SCRIPTED_FAULTS_H_
