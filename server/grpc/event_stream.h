#ifndef LINECHANNEL_SERVER_GRPC_EVENT_STREAM_H_
#define LINECHANNEL_SERVER_GRPC_EVENT_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "linechannel/v1/channel_service.pb.h"
#include "server/webhook/event_notifier.h"
#include "server/base/executor.h"
#include "storage/event_store.h"

namespace linechannel::server {

// One StreamEvents call: writes the stored backlog after the request's cursor in order, then
// each new batch as the notifier reports commits, one message in flight at a time (so a slow
// reader holds at most one batch in memory). Reads run on the executor, never on gRPC's
// threads. Ends when the caller cancels, on a storage error, or with UNAVAILABLE when the
// server shuts down. Owns itself: it deletes itself when gRPC is done with it.
// Lock order: the notifier's lock may be held when mu_ is taken (in the listener), so mu_ is
// never held while calling into the notifier.
class EventStream : public grpc::ServerWriteReactor<v1::Event> {
 public:
  // `on_done` runs when gRPC is done with the stream, just before it deletes itself.
  EventStream(storage::EventStore* store, EventNotifier* notifier, Executor* executor,
              storage::EventQuery query, std::function<void()> on_done);

  // Starts the stream; call once, right after construction.
  void Begin();

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Makes sure a read will follow: schedules one, or marks that the running one must repeat.
  void WantRead() ABSL_LOCKS_EXCLUDED(mu_);
  void ScheduleReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Read() ABSL_LOCKS_EXCLUDED(mu_);
  // Writes the next pending event, or asks for more when none is left.
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends a task on the executor; deletes the stream if gRPC is already done with it.
  void EndTask() ABSL_LOCKS_EXCLUDED(mu_);

  storage::EventStore* const store_;
  EventNotifier* const notifier_;
  Executor* const executor_;
  const std::function<void()> on_done_;
  absl::Mutex mu_;
  // Set together by Begin; OnDone waits for them, as a Close racing Begin may finish the
  // stream before Begin knows its subscription.
  int subscription_ ABSL_GUARDED_BY(mu_) = 0;
  bool begun_ ABSL_GUARDED_BY(mu_) = false;
  storage::EventQuery query_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::Event> pending_ ABSL_GUARDED_BY(mu_);
  // A read is scheduled or running, or writes are in progress: no new read may start.
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
  // New events were reported while busy: read again when idle.
  bool stale_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  int tasks_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_EVENT_STREAM_H_
