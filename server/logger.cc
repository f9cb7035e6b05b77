#include "server/logger.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

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

// JSON text of one value; protobuf does the escaping.
std::string Json(const google::protobuf::Value& value) {
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(value, &out).ok()) return "null";
  return out;
}

google::protobuf::Value StringValue(absl::string_view text) {
  google::protobuf::Value value;
  value.set_string_value(std::string(text));
  return value;
}

}  // namespace

void SetLogDestination(int fd) { log_fd.store(fd); }

LogLine::LogLine(LogLevel level, absl::string_view event) {
  With("ts", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()));
  With("level", LevelName(level));
  With("event", event);
}

LogLine::~LogLine() {
  std::string line = "{";
  for (const auto& [key, value] : fields_) {
    absl::StrAppend(&line, line.size() > 1 ? "," : "", Json(StringValue(key)), ":", Json(*value));
  }
  line += "}\n";
  // One write per line, so concurrent lines do not interleave.
  const int fd = log_fd.load();
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = write(fd, line.data() + written, line.size() - written);
    if (n <= 0) return;
    written += static_cast<size_t>(n);
  }
}

void LogLine::Set(absl::string_view key, google::protobuf::Value value) {
  for (auto& field : fields_) {
    if (field.first == key) {
      *field.second = std::move(value);
      return;
    }
  }
  fields_.emplace_back(std::string(key),
                       std::make_unique<google::protobuf::Value>(std::move(value)));
}

LogLine& LogLine::With(absl::string_view key, absl::string_view value) {
  Set(key, StringValue(value));
  return *this;
}

LogLine& LogLine::With(absl::string_view key, int64_t value) {
  google::protobuf::Value v;
  v.set_number_value(static_cast<double>(value));
  Set(key, std::move(v));
  return *this;
}

LogLine& LogLine::With(absl::string_view key, double value) {
  google::protobuf::Value v;
  v.set_number_value(value);
  Set(key, std::move(v));
  return *this;
}

LogLine& LogLine::With(absl::string_view key, bool value) {
  google::protobuf::Value v;
  v.set_bool_value(value);
  Set(key, std::move(v));
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
