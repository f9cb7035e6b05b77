#ifndef LINECHANNEL_SERVER_WEBHOOK_EVENT_NOTIFIER_H_
#define LINECHANNEL_SERVER_WEBHOOK_EVENT_NOTIFIER_H_

#include <cstdint>
#include <functional>
#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace linechannel::server {

// Tells event readers (StreamEvents) that new events were committed, so they read again
// instead of polling. Thread-safe.
class EventNotifier {
 public:
  // Called with `closing` false after every publish, and once with true when the server shuts
  // down (readers should then end their streams). Runs on the publishing thread, so it must
  // only schedule work.
  using Listener = std::function<void(bool closing)>;

  // `listener` runs until it is removed. It is never called from within Subscribe: check
  // closed() afterwards for a Close that came first.
  int Subscribe(Listener listener);
  // After Unsubscribe returns, the listener is not running and will not run again.
  void Unsubscribe(int id);

  // Events up to `cursor` are committed.
  void Publish(int64_t cursor);
  int64_t last_cursor() const;

  // Tells every listener that the server is shutting down; closed() is true from now on.
  void Close();
  bool closed() const;

 private:
  mutable absl::Mutex mu_;
  int next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<int, Listener> listeners_ ABSL_GUARDED_BY(mu_);
  int64_t last_cursor_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_WEBHOOK_EVENT_NOTIFIER_H_
