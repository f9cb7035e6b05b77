#ifndef LINECHANNEL_TOOLS_FAKE_LINE_MEDIA_LIBRARY_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_MEDIA_LIBRARY_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linechannel::fake_line {

// Where LINE is with preparing a video or audio for download (images and files are ready at
// once).
enum class MediaStatus { kProcessing, kSucceeded, kFailed };

// "processing", "succeeded" or "failed", as the transcoding call answers.
const char* MediaStatusName(MediaStatus status);
// The inverse; nullopt for any other text.
std::optional<MediaStatus> ParseMediaStatus(absl::string_view name);

// The content of one message a customer sent, as the fake knows it; the bytes themselves are
// generated when downloaded (see content_bytes.h).
struct MediaItem {
  std::string message_id;
  std::string message_type;  // "image", "video", "audio" or "file".
  std::string file_name;     // File messages only.
  uint64_t size = 0;
  absl::Time ready_at;                // Video/audio: when processing ends by itself.
  std::optional<MediaStatus> forced;  // Set by the control API; wins over `ready_at`.

  MediaStatus StatusAt(absl::Time now) const;
};

// Content of the messages each channel's webhooks carried, by message id. Thread-safe.
class MediaLibrary {
 public:
  // Per channel; the oldest items are forgotten past this.
  static constexpr size_t kMaxItemsPerChannel = 100000;

  void Add(absl::string_view channel_id, MediaItem item);
  std::optional<MediaItem> Find(absl::string_view channel_id, absl::string_view message_id) const;
  // Changes an item's status and/or size. NOT_FOUND if the channel has no such content.
  absl::StatusOr<MediaItem> Update(absl::string_view channel_id, absl::string_view message_id,
                                   std::optional<MediaStatus> status, std::optional<uint64_t> size);
  void Forget(absl::string_view channel_id);

 private:
  struct ChannelMedia {
    absl::flat_hash_map<std::string, MediaItem> items;
    std::deque<std::string> order;
  };

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ChannelMedia> channels_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_MEDIA_LIBRARY_H_
