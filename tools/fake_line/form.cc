#include "tools/fake_line/form.h"

#include "absl/status/status.h"
#include "absl/strings/str_split.h"

namespace linechannel::fake_line {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// None of the project's libraries decodes forms (Boost.URL arrived after Boost 1.74, and curl's
// unescape leaves '+' alone), so this small decoder is ours.
absl::StatusOr<std::string> Decode(absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) {
        return absl::InvalidArgumentError("truncated %-escape in form body");
      }
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return absl::InvalidArgumentError("bad %-escape in form body");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> ParseForm(absl::string_view body) {
  std::map<std::string, std::string> fields;
  for (absl::string_view pair : absl::StrSplit(body, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    absl::StatusOr<std::string> key = Decode(kv.first);
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> value = Decode(kv.second);
    if (!value.ok()) return value.status();
    fields[*std::move(key)] = *std::move(value);
  }
  return fields;
}

}  // namespace linechannel::fake_line
