#ifndef LINECHANNEL_TESTS_SUPPORT_CHILD_PROCESS_H_
#define LINECHANNEL_TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linechannel::testing {

// A program started by a test: its stdout is collected line by line so the test can wait for
// a readiness line; its stderr goes to a file (or the test's own stderr). The destructor stops
// the process (SIGTERM, then SIGKILL) if it is still running. Thread-safe.
class ChildProcess {
 public:
  struct Options {
    std::vector<std::string> argv;  // argv[0] is the program's path.
    // Extra "NAME=value" entries added to the inherited environment.
    std::vector<std::string> env;
    // Where stderr goes; empty inherits the test's stderr.
    std::string stderr_path;
    // A file to read stdin from; empty means /dev/null.
    std::string stdin_path;
  };

  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(Options options);
  ~ChildProcess();

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Waits until a stdout line containing `needle` appears and returns that line.
  // DEADLINE_EXCEEDED after `timeout`; FAILED_PRECONDITION if the process exits first.
  absl::StatusOr<std::string> WaitForLine(const std::string& needle,
                                          absl::Duration timeout = absl::Seconds(30));

  // Every stdout line seen so far.
  std::vector<std::string> Lines() const;

  // Sends `signal` and waits up to `timeout` for the exit. Returns the exit status as
  // waitpid(2) reports it. DEADLINE_EXCEEDED if it is still running after `timeout`.
  absl::StatusOr<int> Stop(int signal, absl::Duration timeout = absl::Seconds(30));

  // Waits for the process to exit by itself, and for the rest of its stdout to be read; same
  // result as Stop().
  absl::StatusOr<int> Wait(absl::Duration timeout = absl::Seconds(30));

  pid_t pid() const { return pid_; }
  bool running() const;

 private:
  ChildProcess(pid_t pid, int stdout_fd);
  void ReadStdout();
  bool Reap(absl::Duration timeout);

  const pid_t pid_;
  const int stdout_fd_;
  mutable absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
  bool stdout_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool exited_ ABSL_GUARDED_BY(mu_) = false;
  int wait_status_ ABSL_GUARDED_BY(mu_) = 0;
  // Last: the thread starts in the constructor and uses the members above.
  std::thread reader_;
};

// Parses "host:port" out of `line` after `prefix`; for readiness lines such as
// "channeld grpc=127.0.0.1:41234". Returns the port.
absl::StatusOr<int> PortAfter(const std::string& line, const std::string& prefix);

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_SUPPORT_CHILD_PROCESS_H_
