#ifndef LINECHANNEL_TOOLS_FAKE_LINE_PER_CHANNEL_FIND_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_PER_CHANNEL_FIND_H_

#include <optional>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace linechannel::fake_line {

// The stores of the fake keep one record per channel, each holding maps by id. This finds
// `(channels[channel_id].*map)[key]` as a copy, or nullopt when the channel or the key is
// unknown. The caller holds whatever lock guards `channels`.
template <typename Channels, typename Map, typename Key>
auto FindInChannel(const Channels& channels, absl::string_view channel_id, Map map,
                   const Key& key)
    -> std::optional<typename std::decay_t<
        decltype(channels.begin()->second.*map)>::mapped_type> {
  auto channel = channels.find(channel_id);
  if (channel == channels.end()) return std::nullopt;
  const auto& values = channel->second.*map;
  auto found = values.find(key);
  if (found == values.end()) return std::nullopt;
  return found->second;
}

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_PER_CHANNEL_FIND_H_
