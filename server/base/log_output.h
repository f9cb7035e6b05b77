#ifndef LINECHANNEL_SERVER_BASE_LOG_OUTPUT_H_
#define LINECHANNEL_SERVER_BASE_LOG_OUTPUT_H_

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace linechannel::server {

// Where finished log lines go. Without a LogBatching alive, each line is written to the log's
// file descriptor before WriteLogLine returns. While one is alive, lines are collected in
// memory and a background thread writes them out together, a batch per `window`: one write()
// per line costs a serving thread a system call and the file's lock that every other logging
// thread waits on (a third of a read RPC's time under load). Lines keep the order they were
// given in and never interleave either way.
void WriteLogLine(absl::string_view line, bool flush_now);

// Writes every line given so far before returning.
void FlushLog();

// Sends log lines to `fd` instead of stderr (tests). Lines given before are written first.
void SetLogDestination(int fd);

// Batches log lines while it lives; its destructor writes what is left. A line that asks to be
// flushed (an error), or one that finds a megabyte waiting, is written at once together with
// everything before it, so nothing important waits and memory stays bounded when the disk is
// slow. What a crash loses is at most the last `window` of lines; one instance at a time.
class LogBatching {
 public:
  explicit LogBatching(absl::Duration window = absl::Milliseconds(5));
  ~LogBatching();
  LogBatching(const LogBatching&) = delete;
  LogBatching& operator=(const LogBatching&) = delete;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BASE_LOG_OUTPUT_H_
