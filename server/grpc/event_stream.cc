#include "server/grpc/event_stream.h"

#include "server/grpc/channel_proto.h"
#include "server/base/errors.h"
#include "server/grpc/grpc_status.h"

namespace linechannel::server {

EventStream::EventStream(storage::EventStore* store, EventNotifier* notifier, Executor* executor,
                         storage::EventQuery query, std::function<void()> on_done)
    : store_(store),
      notifier_(notifier),
      executor_(executor),
      on_done_(std::move(on_done)),
      query_(std::move(query)) {}

namespace {

grpc::Status ShuttingDown() {
  return ToGrpcStatus(
      ReasonedError(absl::StatusCode::kUnavailable, reason::kShuttingDown,
                    "the server is shutting down; reconnect with the last cursor you received"));
}

}  // namespace

void EventStream::Begin() {
  const int subscription = notifier_->Subscribe([this](bool closing) {
    if (!closing) return WantRead();
    absl::MutexLock lock(&mu_);
    FinishLocked(ShuttingDown());
  });
  const bool closed = notifier_->closed();
  absl::MutexLock lock(&mu_);
  subscription_ = subscription;
  begun_ = true;
  // Tells the caller at once that the stream is open, before there is anything to send.
  StartSendInitialMetadata();
  if (closed) return FinishLocked(ShuttingDown());
  if (!busy_ && !finished_) ScheduleReadLocked();
}

void EventStream::WantRead() {
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  if (busy_) {
    stale_ = true;
    return;
  }
  ScheduleReadLocked();
}

void EventStream::ScheduleReadLocked() {
  busy_ = true;
  stale_ = false;
  ++tasks_;
  if (!executor_->TrySchedule([this] {
        Read();
        EndTask();
      })) {
    --tasks_;
    FinishLocked(ToGrpcStatus(
        ReasonedError(absl::StatusCode::kResourceExhausted, reason::kOverloaded,
                      "the server is too busy to serve this stream; reconnect shortly")));
  }
}

void EventStream::Read() {
  storage::EventQuery query;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    query = query_;
  }
  absl::StatusOr<std::vector<storage::StoredEvent>> events = store_->ReadEvents(query);
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  if (!events.ok()) return FinishLocked(ToGrpcStatus(events.status()));
  if (events->empty()) {
    busy_ = false;
    // Something was committed while this read ran: it may not have seen it.
    if (stale_) ScheduleReadLocked();
    return;
  }
  for (const storage::StoredEvent& event : *events) ToEventProto(event, &pending_.emplace_back());
  query_.after_cursor = events->back().cursor;
  WriteNextLocked();
}

void EventStream::WriteNextLocked() {
  if (pending_.empty()) {
    // The batch is written; there may be more behind it.
    ScheduleReadLocked();
    return;
  }
  StartWrite(&pending_.front());
}

void EventStream::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  if (!ok) {
    return FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the stream was broken"));
  }
  pending_.pop_front();
  if (finished_) return;
  WriteNextLocked();
}

void EventStream::OnCancel() {
  absl::MutexLock lock(&mu_);
  FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the caller"));
}

void EventStream::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  Finish(status);
}

void EventStream::OnDone() {
  int subscription = 0;
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&begun_));
    subscription = subscription_;
  }
  // After this no listener runs, so only executor tasks may still touch the stream.
  notifier_->Unsubscribe(subscription);
  if (on_done_) on_done_();
  bool last = false;
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
    last = tasks_ == 0;
  }
  if (last) delete this;
}

void EventStream::EndTask() {
  bool last = false;
  {
    absl::MutexLock lock(&mu_);
    --tasks_;
    last = done_ && tasks_ == 0;
  }
  if (last) delete this;
}

}  // namespace linechannel::server
