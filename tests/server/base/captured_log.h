#ifndef LINECHANNEL_TESTS_SERVER_BASE_CAPTURED_LOG_H_
#define LINECHANNEL_TESTS_SERVER_BASE_CAPTURED_LOG_H_

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "server/base/log_output.h"
#include "tests/support/temp_dir.h"

namespace linechannel::server {

// Sends the log to a file of its own while it lives; Text() is what reached the file.
class CapturedLog {
 public:
  CapturedLog() : path_(dir_.File("log")) {
    fd_ = open(path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_APPEND, 0600);
    SetLogDestination(fd_);
  }
  ~CapturedLog() {
    SetLogDestination(STDERR_FILENO);
    close(fd_);
  }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  std::string Text() const { return testing::ReadFile(path_); }

 private:
  testing::TempDir dir_;
  std::string path_;
  int fd_ = -1;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_TESTS_SERVER_BASE_CAPTURED_LOG_H_
