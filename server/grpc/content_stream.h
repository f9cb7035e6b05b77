#ifndef LINECHANNEL_SERVER_GRPC_CONTENT_STREAM_H_
#define LINECHANNEL_SERVER_GRPC_CONTENT_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "linechannel/v1/messaging.pb.h"
#include "server/base/call_context.h"
#include "server/base/executor.h"
#include "server/line/line_messaging_api.h"

namespace linechannel::server {

// One GetMessageContent call: the download from LINE runs on the executor and hands its bytes
// over in chunks of at most kChunkBytes; the download waits while kMaxQueuedChunks are queued
// for gRPC, so a slow reader slows the download down and memory per stream stays bounded
// whatever the content's size. Owns itself: deleted when gRPC and the download are both done.
class ContentStream : public grpc::ServerWriteReactor<v1::MessageContentChunk> {
 public:
  static constexpr size_t kChunkBytes = 64 * 1024;
  static constexpr size_t kMaxQueuedChunks = 4;

  // Runs the download into the sink it is given; returns how it ended.
  using Download = std::function<absl::Status(const LineMessagingApi::ContentSink& sink)>;

  // `on_done` runs once gRPC and the download are both done with the stream.
  ContentStream(Executor* executor, Download download, std::function<void()> on_done);
  ~ContentStream() override;

  // Schedules the download; call once, right after construction.
  void Begin();

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  void Run();
  bool Head(const LineContentHead& head);
  bool Chunk(absl::string_view bytes);
  // Queues `pending_` as a chunk and waits for room; false when the caller is gone.
  bool Flush() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Executor* const executor_;
  const Download download_;
  const std::function<void()> on_done_;

  absl::Mutex mu_;
  // Bytes not yet made a chunk, and the head for the first chunk.
  v1::MessageContentChunk pending_ ABSL_GUARDED_BY(mu_);
  bool head_sent_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<v1::MessageContentChunk> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool gone_ ABSL_GUARDED_BY(mu_) = false;  // Cancelled, or a write failed.
  bool downloading_ ABSL_GUARDED_BY(mu_) = true;
  absl::Status result_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool grpc_done_ ABSL_GUARDED_BY(mu_) = false;
  bool task_ended_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_CONTENT_STREAM_H_
