#ifndef LINECHANNEL_SERVER_BASE_JSON_WRITER_H_
#define LINECHANNEL_SERVER_BASE_JSON_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace linechannel::server {

// `text` as a JSON string literal, quotes included. Bytes that are not UTF-8 become U+FFFD,
// so the output stays valid JSON whatever a client sent.
std::string JsonString(absl::string_view text);
// The same, appended to `out`.
void AppendJsonString(absl::string_view text, std::string* out);

// Writes one JSON object member by member, in the order added; keys are not checked for
// repeats. Built by hand rather than through a JSON library: the logger writes one per
// request on the webhook's hot path. Not thread-safe.
//
//   std::string text = JsonObjectWriter().String("format", "x/1").Int("n", 2).Finish();
class JsonObjectWriter {
 public:
  JsonObjectWriter& String(absl::string_view key, absl::string_view value);
  JsonObjectWriter& Int(absl::string_view key, int64_t value);
  JsonObjectWriter& Bool(absl::string_view key, bool value);
  // `json` must already be valid JSON text: a number, an array, an object.
  JsonObjectWriter& Raw(absl::string_view key, absl::string_view json);

  // The object's text. The writer must not be used afterwards.
  std::string Finish();

 private:
  std::string text_ = "{";
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BASE_JSON_WRITER_H_
