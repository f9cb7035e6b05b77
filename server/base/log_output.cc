#include "server/base/log_output.h"

#include <errno.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace linechannel::server {
namespace {

// Lines waiting past this are written by the thread that adds one: the writer cannot keep up.
constexpr size_t kWriteAtOnceBytes = size_t{1} << 20;

void WriteAll(int fd, absl::string_view text) {
  while (!text.empty()) {
    const ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    // Nowhere to write to: a log line is never worth failing the work it describes.
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// The process's lines not yet written, and the thread that writes them while batching.
class Output {
 public:
  void Add(absl::string_view line, bool flush_now) {
    bool write_now = false;
    {
      absl::MutexLock lock(&mu_);
      pending_.append(line.data(), line.size());
      write_now = flush_now || !batching_ || pending_.size() >= kWriteAtOnceBytes;
      if (!write_now && writer_idle_) {
        writer_idle_ = false;
        wake_.Signal();
      }
    }
    if (write_now) Flush();
  }

  // Takes what is pending and writes it. Holding write_mu_ across both keeps the batches in
  // the file in the order they were taken, whoever writes them.
  void Flush() ABSL_LOCKS_EXCLUDED(mu_, write_mu_) {
    absl::MutexLock write_lock(&write_mu_);
    {
      absl::MutexLock lock(&mu_);
      if (pending_.empty()) return;
      writing_.swap(pending_);
    }
    WriteAll(fd_.load(), writing_);
    writing_.clear();  // Keeps its capacity for the next swap.
  }

  void SetFd(int fd) {
    Flush();
    fd_.store(fd);
  }

  void StartBatching(absl::Duration window) {
    absl::MutexLock lock(&mu_);
    if (batching_) return;
    batching_ = true;
    stopping_ = false;
    window_ = window;
    writer_ = std::thread([this] { WriteInBatches(); });
  }

  void StopBatching() {
    {
      absl::MutexLock lock(&mu_);
      if (!batching_) return;
      stopping_ = true;
      wake_.Signal();
    }
    writer_.join();
    {
      absl::MutexLock lock(&mu_);
      batching_ = false;
    }
    Flush();
  }

 private:
  void WriteInBatches() ABSL_LOCKS_EXCLUDED(mu_) {
    mu_.Lock();
    while (!stopping_) {
      if (pending_.empty()) {
        writer_idle_ = true;
        wake_.Wait(&mu_);
        writer_idle_ = false;
        continue;
      }
      // The first line of a batch is here: let the rest of the window's lines join it.
      const absl::Time due = absl::Now() + window_;
      while (!stopping_ && !wake_.WaitWithDeadline(&mu_, due)) {
      }
      mu_.Unlock();
      Flush();
      mu_.Lock();
    }
    mu_.Unlock();
  }

  std::atomic<int> fd_{STDERR_FILENO};
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::string writing_ ABSL_GUARDED_BY(write_mu_);
  absl::Mutex mu_;
  absl::CondVar wake_;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  bool batching_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool writer_idle_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration window_ ABSL_GUARDED_BY(mu_);
  std::thread writer_;
};

// Never destroyed: threads may log while the process exits.
Output& TheOutput() {
  static Output* const output = new Output;
  return *output;
}

}  // namespace

void WriteLogLine(absl::string_view line, bool flush_now) { TheOutput().Add(line, flush_now); }

void FlushLog() { TheOutput().Flush(); }

void SetLogDestination(int fd) { TheOutput().SetFd(fd); }

LogBatching::LogBatching(absl::Duration window) { TheOutput().StartBatching(window); }

LogBatching::~LogBatching() { TheOutput().StopBatching(); }

}  // namespace linechannel::server
