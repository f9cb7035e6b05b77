#ifndef LINECHANNEL_SERVER_BASE_LOGGER_H_
#define LINECHANNEL_SERVER_BASE_LOGGER_H_

#include <cstdint>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/base/log_output.h"

namespace linechannel::server {

// One structured log line: a JSON object on stderr, starting with "ts", "level" and "event",
// handed to WriteLogLine when the LogLine dies (an error line is flushed at once). Values are
// plain strings and numbers: a Secret has no way in, so secrets cannot be logged by accident.
// Lines from many threads never interleave.
//
//   LogLine(LogLevel::kInfo, "rpc").With("method", "BindChannel").With("latency_ms", 12.5);
enum class LogLevel { kInfo, kWarning, kError };

class LogLine {
 public:
  LogLine(LogLevel level, absl::string_view event);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  // A key given twice keeps its first place and its last value.
  LogLine& With(absl::string_view key, absl::string_view value);
  LogLine& With(absl::string_view key, const char* value) {
    return With(key, absl::string_view(value));
  }
  LogLine& With(absl::string_view key, int64_t value);
  LogLine& With(absl::string_view key, int value) { return With(key, int64_t{value}); }
  LogLine& With(absl::string_view key, double value);
  LogLine& With(absl::string_view key, bool value);
  LogLine& With(absl::string_view key, absl::Duration value);  // As milliseconds.
  // "code" and "error" of a failed status; nothing for OK.
  LogLine& WithStatus(const absl::Status& status);

 private:
  // Where one member's key (quoted) and value (JSON text) are in `line_`.
  struct Member {
    size_t key_begin;
    size_t key_size;
    size_t value_begin;
    size_t value_size;
  };
  // Appends the member `key` with the value `append_value` appends to the line; if `key` was
  // given before, moves the value into that member's place instead.
  LogLine& Add(absl::string_view key, absl::FunctionRef<void(std::string*)> append_value);

  // The line as it will be written, without its closing brace. Built by hand, in place,
  // rather than through a JSON library: a line is logged per request, on the webhook's and
  // every RPC's hot path.
  std::string line_;
  absl::InlinedVector<Member, 12> members_;
  bool flush_now_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BASE_LOGGER_H_
