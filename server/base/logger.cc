#include "server/base/logger.h"

#include <unistd.h>

#include <atomic>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

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

// Length of the well-formed UTF-8 sequence at the start of `text`, or 0 if there is none
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t Utf8SequenceLength(absl::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const auto continuation = [&](size_t i) { return i < text.size() && (byte(i) & 0xC0) == 0x80; };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;   // Overlong.
    if (lead == 0xED && byte(1) >= 0xA0) return 0;  // Surrogate.
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0 && byte(1) < 0x90) return 0;   // Overlong.
    if (lead == 0xF4 && byte(1) >= 0x90) return 0;  // Past U+10FFFF.
    return 4;
  }
  return 0;
}

}  // namespace

std::string JsonString(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  while (!text.empty()) {
    const unsigned char c = static_cast<unsigned char>(text[0]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(text);
      if (length == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD for one stray byte.
        text.remove_prefix(1);
      } else {
        out.append(text.data(), length);
        text.remove_prefix(length);
      }
      continue;
    } else {
      out += static_cast<char>(c);
    }
    text.remove_prefix(1);
  }
  out += '"';
  return out;
}

void SetLogDestination(int fd) { log_fd.store(fd); }

LogLine::LogLine(LogLevel level, absl::string_view event) {
  fields_.reserve(12);
  With("ts", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()));
  With("level", LevelName(level));
  With("event", event);
}

LogLine::~LogLine() {
  std::string line = "{";
  for (const auto& [key, value] : fields_) {
    absl::StrAppend(&line, line.size() > 1 ? "," : "", JsonString(key), ":", value);
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
