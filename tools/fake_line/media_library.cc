#include "tools/fake_line/media_library.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "tools/fake_line/per_channel_find.h"

namespace linechannel::fake_line {

const char* MediaStatusName(MediaStatus status) {
  switch (status) {
    case MediaStatus::kProcessing:
      return "processing";
    case MediaStatus::kSucceeded:
      return "succeeded";
    case MediaStatus::kFailed:
      return "failed";
  }
  return "failed";
}

std::optional<MediaStatus> ParseMediaStatus(absl::string_view name) {
  for (MediaStatus status :
       {MediaStatus::kProcessing, MediaStatus::kSucceeded, MediaStatus::kFailed}) {
    if (name == MediaStatusName(status)) return status;
  }
  return std::nullopt;
}

MediaStatus MediaItem::StatusAt(absl::Time now) const {
  if (forced.has_value()) return *forced;
  return now >= ready_at ? MediaStatus::kSucceeded : MediaStatus::kProcessing;
}

void MediaLibrary::Add(absl::string_view channel_id, MediaItem item) {
  absl::MutexLock lock(&mu_);
  ChannelMedia& media = channels_[channel_id];
  std::string id = item.message_id;
  if (media.items.insert_or_assign(id, std::move(item)).second) media.order.push_back(id);
  while (media.order.size() > kMaxItemsPerChannel) {
    media.items.erase(media.order.front());
    media.order.pop_front();
  }
}

std::optional<MediaItem> MediaLibrary::Find(absl::string_view channel_id,
                                            absl::string_view message_id) const {
  absl::MutexLock lock(&mu_);
  return FindInChannel(channels_, channel_id, &MediaLibrary::ChannelMedia::items, message_id);
}

absl::StatusOr<MediaItem> MediaLibrary::Update(absl::string_view channel_id,
                                               absl::string_view message_id,
                                               std::optional<MediaStatus> status,
                                               std::optional<uint64_t> size) {
  absl::MutexLock lock(&mu_);
  auto channel = channels_.find(channel_id);
  if (channel != channels_.end()) {
    if (auto item = channel->second.items.find(message_id); item != channel->second.items.end()) {
      if (status.has_value()) item->second.forced = status;
      if (size.has_value()) item->second.size = *size;
      return item->second;
    }
  }
  return absl::NotFoundError(
      absl::StrCat("channel ", channel_id, " has no content for message ", message_id));
}

void MediaLibrary::Forget(absl::string_view channel_id) {
  absl::MutexLock lock(&mu_);
  channels_.erase(channel_id);
}

}  // namespace linechannel::fake_line
