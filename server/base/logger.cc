#include "server/base/logger.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "server/base/json_writer.h"
#include "server/base/log_output.h"

namespace linechannel::server {
namespace {

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

// `t` as 2006-01-02T15:04:05.000Z (UTC, milliseconds truncated). The part up to the seconds
// is formatted once per second per thread: formatting a time zone's fields is the costliest
// part of a log line otherwise.
void AppendUtcMillis(absl::Time t, std::string* out) {
  const int64_t millis = absl::ToUnixMillis(t);  // Rounded down, as %E3S truncates.
  int64_t seconds = millis / 1000;
  int64_t fraction = millis % 1000;
  if (fraction < 0) {
    fraction += 1000;
    seconds -= 1;
  }
  thread_local int64_t cached_seconds = 0;
  thread_local std::string cached_text;
  if (cached_text.empty() || cached_seconds != seconds) {
    cached_text =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(seconds), absl::UTCTimeZone());
    cached_seconds = seconds;
  }
  out->append(cached_text);
  const char digits[] = {'.', static_cast<char>('0' + fraction / 100),
                         static_cast<char>('0' + fraction / 10 % 10),
                         static_cast<char>('0' + fraction % 10), 'Z'};
  out->append(digits, sizeof(digits));
}

}  // namespace

LogLine::LogLine(LogLevel level, absl::string_view event) : flush_now_(level == LogLevel::kError) {
  line_.reserve(320);
  line_ += '{';
  Add("ts", [](std::string* out) {
    *out += '"';
    AppendUtcMillis(absl::Now(), out);
    *out += '"';
  });
  With("level", LevelName(level));
  With("event", event);
}

LogLine::~LogLine() {
  line_ += "}\n";
  WriteLogLine(line_, flush_now_);
}

LogLine& LogLine::Add(absl::string_view key, absl::FunctionRef<void(std::string*)> append_value) {
  const size_t start = line_.size();
  if (!members_.empty()) line_ += ',';
  const size_t key_begin = line_.size();
  AppendJsonString(key, &line_);
  const size_t key_size = line_.size() - key_begin;
  line_ += ':';
  const size_t value_begin = line_.size();
  append_value(&line_);
  const absl::string_view quoted_key(line_.data() + key_begin, key_size);
  for (size_t i = 0; i < members_.size(); ++i) {
    Member& earlier = members_[i];
    if (absl::string_view(line_.data() + earlier.key_begin, earlier.key_size) != quoted_key) {
      continue;
    }
    // Rare: a repeated key keeps its first place and takes the new value.
    const std::string value = line_.substr(value_begin);
    line_.resize(start);
    line_.replace(earlier.value_begin, earlier.value_size, value);
    const size_t old_size = earlier.value_size;
    earlier.value_size = value.size();
    for (size_t j = i + 1; j < members_.size(); ++j) {
      members_[j].key_begin = members_[j].key_begin - old_size + value.size();
      members_[j].value_begin = members_[j].value_begin - old_size + value.size();
    }
    return *this;
  }
  members_.push_back({key_begin, key_size, value_begin, line_.size() - value_begin});
  return *this;
}

LogLine& LogLine::With(absl::string_view key, absl::string_view value) {
  return Add(key, [value](std::string* out) { AppendJsonString(value, out); });
}

LogLine& LogLine::With(absl::string_view key, int64_t value) {
  return Add(key, [value](std::string* out) { absl::StrAppend(out, value); });
}

LogLine& LogLine::With(absl::string_view key, double value) {
  return Add(key, [value](std::string* out) {
    // JSON has no NaN or infinity.
    if (std::isfinite(value)) {
      absl::StrAppend(out, value);  // As %.6g, without a format string parsed per line.
    } else {
      *out += "null";
    }
  });
}

LogLine& LogLine::With(absl::string_view key, bool value) {
  return Add(key, [value](std::string* out) { *out += value ? "true" : "false"; });
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
