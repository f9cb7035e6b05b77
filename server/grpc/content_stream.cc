#include "server/grpc/content_stream.h"

#include <algorithm>
#include <utility>

#include "server/base/errors.h"
#include "server/grpc/grpc_status.h"

namespace linechannel::server {

ContentStream::ContentStream(Executor* executor, Download download, std::function<void()> on_done)
    : executor_(executor), download_(std::move(download)), on_done_(std::move(on_done)) {}

void ContentStream::Begin() {
  if (!executor_->TrySchedule([this] { Run(); })) {
    absl::MutexLock lock(&mu_);
    downloading_ = false;
    task_ended_ = true;
    result_ =
        WithRetryDelay(ReasonedError(absl::StatusCode::kResourceExhausted, reason::kOverloaded,
                                     "the server is busy; retry shortly"),
                       absl::Seconds(1));
    MaybeFinishLocked();
  }
}

void ContentStream::Run() {
  absl::Status status = download_(
      LineMessagingApi::ContentSink{[this](const LineContentHead& head) { return Head(head); },
                                    [this](absl::string_view bytes) { return Chunk(bytes); }});
  bool last;
  {
    absl::MutexLock lock(&mu_);
    // What is left, and the head alone for empty content, go out before the status.
    if (status.ok() && !gone_ && (!pending_.data().empty() || !head_sent_)) {
      queue_.push_back(std::move(pending_));
      head_sent_ = true;
      WriteNextLocked();
    }
    downloading_ = false;
    result_ = std::move(status);
    task_ended_ = true;
    MaybeFinishLocked();
    last = grpc_done_;
  }
  if (last) delete this;
}

bool ContentStream::Head(const LineContentHead& head) {
  absl::MutexLock lock(&mu_);
  pending_.set_content_type(head.content_type);
  pending_.set_size(head.size);
  return !gone_;
}

bool ContentStream::Chunk(absl::string_view bytes) {
  absl::MutexLock lock(&mu_);
  while (!bytes.empty()) {
    if (gone_) return false;
    const size_t room = kChunkBytes - pending_.data().size();
    const size_t take = std::min(room, bytes.size());
    pending_.mutable_data()->append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (pending_.data().size() == kChunkBytes && !Flush()) return false;
  }
  return !gone_;
}

bool ContentStream::Flush() {
  queue_.push_back(std::move(pending_));
  pending_.Clear();
  head_sent_ = true;
  WriteNextLocked();
  auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return gone_ || queue_.size() < kMaxQueuedChunks;
  };
  mu_.Await(absl::Condition(&room));
  return !gone_;
}

void ContentStream::WriteNextLocked() {
  if (writing_ || gone_ || queue_.empty()) return;
  writing_ = true;
  StartWrite(&queue_.front());
}

void ContentStream::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  queue_.pop_front();
  if (!ok) gone_ = true;
  WriteNextLocked();
  MaybeFinishLocked();
}

void ContentStream::OnCancel() {
  absl::MutexLock lock(&mu_);
  gone_ = true;
  MaybeFinishLocked();
}

void ContentStream::MaybeFinishLocked() {
  if (finished_ || writing_) return;
  if (gone_) {
    // The download stops at its next chunk; the caller is gone, so the status is moot.
    finished_ = true;
    Finish(grpc::Status::CANCELLED);
    return;
  }
  if (downloading_ || !queue_.empty()) return;
  finished_ = true;
  Finish(ToGrpcStatus(result_));
}

ContentStream::~ContentStream() { on_done_(); }

void ContentStream::OnDone() {
  bool last;
  {
    absl::MutexLock lock(&mu_);
    grpc_done_ = true;
    last = task_ended_;
  }
  // Whichever of gRPC and the download ends last deletes the stream.
  if (last) delete this;
}

}  // namespace linechannel::server
