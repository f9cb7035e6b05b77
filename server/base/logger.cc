#include "server/base/logger.h"

#include <unistd.h>

#include <atomic>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/base/json_writer.h"

namespace linechannel::server {
namespace {

std::atomic<int> log_fd{STDERR_FILENO};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void SetLogDestination(int fd) { log_fd.store(fd); }

LogLine::LogLine(LogLevel level, absl::string_view event) {
  fields_.reserve(12);
  With("ts", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()));
  With("level", LevelName(level));
  With("event", event);
}

LogLine::~LogLine() {
  JsonObjectWriter object;
  for (const auto& [key, value] : fields_) object.Raw(key, value);
  std::string line = object.Finish();
  line += '\n';
  // One write per line, so concurrent lines do not interleave.
  const int fd = log_fd.load();
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = write(fd, line.data() + written, line.size() - written);
    if (n <= 0) return;
    written += static_cast<size_t>(n);
  }
}

void LogLine::Set(absl::string_view key, std::string json_value) {
  for (auto& field : fields_) {
    if (field.first == key) {
      field.second = std::move(json_value);
      return;
    }
  }
  fields_.emplace_back(std::string(key), std::move(json_value));
}

LogLine& LogLine::With(absl::string_view key, absl::string_view value) {
  Set(key, JsonString(value));
  return *this;
}

LogLine& LogLine::With(absl::string_view key, int64_t value) {
  Set(key, absl::StrCat(value));
  return *this;
}

LogLine& LogLine::With(absl::string_view key, double value) {
  // JSON has no NaN or infinity.
  Set(key, std::isfinite(value) ? absl::StrFormat("%.6g", value) : "null");
  return *this;
}

LogLine& LogLine::With(absl::string_view key, bool value) {
  Set(key, value ? "true" : "false");
  return *this;
}

LogLine& LogLine::With(absl::string_view key, absl::Duration value) {
  return With(key, absl::ToDoubleMilliseconds(value));
}

LogLine& LogLine::WithStatus(const absl::Status& status) {
  if (status.ok()) return *this;
  With("code", absl::StatusCodeToString(status.code()));
  return With("error", status.message());
}

}  // namespace linechannel::server
