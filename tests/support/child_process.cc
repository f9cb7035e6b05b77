#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

extern char** environ;

namespace linechannel::testing {

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(Options options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("argv is empty");
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(
      &actions, STDIN_FILENO, options.stdin_path.empty() ? "/dev/null" : options.stdin_path.c_str(),
      O_RDONLY, 0);
  if (!options.stderr_path.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, options.stderr_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
  }
  // The child gets its own process group so that a test killing it never hits the test.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);

  std::vector<char*> argv;
  for (auto& arg : options.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (auto& e : options.env) env_strings.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(pipe_fds[1]);
  if (rc != 0) {
    close(pipe_fds[0]);
    return absl::InternalError(
        absl::StrCat("posix_spawn ", options.argv[0], ": ", std::strerror(rc)));
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, pipe_fds[0]));
}

ChildProcess::ChildProcess(pid_t pid, int stdout_fd)
    : pid_(pid), stdout_fd_(stdout_fd), reader_([this] { ReadStdout(); }) {}

ChildProcess::~ChildProcess() {
  if (running()) {
    if (!Stop(SIGTERM, absl::Seconds(10)).ok()) (void)Stop(SIGKILL, absl::Seconds(10));
  }
  reader_.join();
  close(stdout_fd_);
}

void ChildProcess::ReadStdout() {
  std::string partial;
  char buf[4096];
  while (true) {
    const ssize_t n = read(stdout_fd_, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    partial.append(buf, static_cast<size_t>(n));
    size_t newline;
    while ((newline = partial.find('\n')) != std::string::npos) {
      absl::MutexLock lock(&mu_);
      lines_.push_back(partial.substr(0, newline));
      partial.erase(0, newline + 1);
    }
  }
  absl::MutexLock lock(&mu_);
  if (!partial.empty()) lines_.push_back(partial);
  stdout_closed_ = true;
}

absl::StatusOr<std::string> ChildProcess::WaitForLine(const std::string& needle,
                                                      absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  size_t seen = 0;
  absl::MutexLock lock(&mu_);
  while (true) {
    for (; seen < lines_.size(); ++seen) {
      if (lines_[seen].find(needle) != std::string::npos) return lines_[seen];
    }
    if (stdout_closed_) {
      return absl::FailedPreconditionError(
          absl::StrCat("process ", pid_, " closed stdout before printing \"", needle, "\""));
    }
    struct Progress {
      const ChildProcess* self;
      size_t seen;
    } progress{this, seen};
    const auto changed = +[](Progress* p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return p->self->stdout_closed_ || p->self->lines_.size() > p->seen;
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(changed, &progress), deadline)) {
      return absl::DeadlineExceededError(absl::StrCat("no line containing \"", needle, "\" within ",
                                                      absl::FormatDuration(timeout)));
    }
  }
}

std::vector<std::string> ChildProcess::Lines() const {
  absl::MutexLock lock(&mu_);
  return lines_;
}

bool ChildProcess::running() const {
  absl::MutexLock lock(&mu_);
  return !exited_;
}

bool ChildProcess::Reap(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (exited_) return true;
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        wait_status_ = status;
        return true;
      }
    }
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

absl::StatusOr<int> ChildProcess::Stop(int signal, absl::Duration timeout) {
  if (running()) kill(pid_, signal);
  return Wait(timeout);
}

absl::StatusOr<int> ChildProcess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  if (!Reap(timeout)) {
    return absl::DeadlineExceededError(
        absl::StrCat("process ", pid_, " still running after ", absl::FormatDuration(timeout)));
  }
  absl::MutexLock lock(&mu_);
  // The process is gone, but the reader may not have read the last of its output yet: callers
  // that read Lines() next must see all of it.
  mu_.AwaitWithDeadline(absl::Condition(&stdout_closed_), deadline);
  return wait_status_;
}

absl::StatusOr<int> PortAfter(const std::string& line, const std::string& prefix) {
  const size_t at = line.find(prefix);
  if (at == std::string::npos) {
    return absl::NotFoundError(absl::StrCat("\"", prefix, "\" not in \"", line, "\""));
  }
  const size_t colon = line.find(':', at + prefix.size());
  if (colon == std::string::npos) return absl::NotFoundError("no port in " + line);
  size_t end = colon + 1;
  while (end < line.size() && line[end] >= '0' && line[end] <= '9') ++end;
  int port = 0;
  if (!absl::SimpleAtoi(line.substr(colon + 1, end - colon - 1), &port)) {
    return absl::NotFoundError("no port in " + line);
  }
  return port;
}

}  // namespace linechannel::testing
