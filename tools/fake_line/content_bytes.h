#ifndef LINECHANNEL_TOOLS_FAKE_LINE_CONTENT_BYTES_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_CONTENT_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "tools/fake_line/http_message.h"
#include "tools/fake_line/media_library.h"

namespace linechannel::fake_line {

// The Content-Type LINE serves a message type's content with: image/jpeg, video/mp4,
// audio/x-m4a; for files, by the name's extension (application/octet-stream if unknown).
std::string ContentTypeOf(absl::string_view message_type, absl::string_view file_name);

// Writes bytes [offset, offset + size) of the content of `message_id` to `out`. The bytes are a
// pure function of (message id, message type, offset): they start with the type's magic
// number (JPEG SOI, an MP4/M4A "ftyp" box, "%PDF-" for .pdf files) and go on with
// pseudo-random bytes, so any range can be made without the rest. Thread-safe.
void FillContent(absl::string_view message_id, absl::string_view message_type,
                 absl::string_view file_name, uint64_t offset, size_t size, char* out);

// A body stream of `item`'s whole content, generated piece by piece as it is written.
std::shared_ptr<const BodyStream> ContentStream(const MediaItem& item);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_CONTENT_BYTES_H_
