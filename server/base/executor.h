#ifndef LINECHANNEL_SERVER_BASE_EXECUTOR_H_
#define LINECHANNEL_SERVER_BASE_EXECUTOR_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace linechannel::server {

// A fixed pool of threads for work that may block (calls to LINE, waiting for a commit), so
// that gRPC's callback threads never do. The queue is bounded: when it is full new work is
// refused at once rather than left to wait without limit. Thread-safe.
class Executor {
 public:
  Executor(int threads, int max_queued);
  // Runs the work already queued, then joins the threads.
  ~Executor();

  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues `work`. False, and `work` is dropped unrun, when `max_queued` tasks already wait or
  // the executor is shutting down.
  bool TrySchedule(std::function<void()> work);

  // Refuses new work from now on; queued work still runs.
  void Shutdown();

  int queued() const;

 private:
  void Loop();

  const size_t max_queued_;
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BASE_EXECUTOR_H_
