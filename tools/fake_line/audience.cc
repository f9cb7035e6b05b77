#include "tools/fake_line/audience.h"

#include "absl/strings/str_cat.h"
#include "tools/fake_line/per_channel_find.h"

namespace linechannel::fake_line {
namespace {

constexpr const char* kNames[] = {
    "\u3055\u304F\u3089", "Taro", "\u30B1\u30F3", "Mai", "Somchai", "Li Wei"};
constexpr const char* kLanguages[] = {"ja", "en", "ja", "en", "th", "zh-TW"};

}  // namespace

UserProfile InventProfile(absl::string_view user_id) {
  // std::hash and absl::Hash are seeded per process; the profile must not change between runs.
  uint64_t h = 1469598103934665603ull;
  for (char c : user_id) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  const size_t pick = h % (sizeof(kNames) / sizeof(kNames[0]));
  UserProfile profile;
  profile.user_id = std::string(user_id);
  const absl::string_view tail = user_id.substr(user_id.size() > 4 ? user_id.size() - 4 : 0);
  profile.display_name = absl::StrCat(kNames[pick], " ", tail);
  profile.picture_url = absl::StrCat("https://profile.line-scdn.net/0hfake", user_id.substr(1));
  profile.status_message = "\u304A\u554F\u3044\u5408\u308F\u305B\u4E2D";  // "asking a question"
  profile.language = kLanguages[pick];
  return profile;
}

void Audience::AddUser(absl::string_view channel_id, const UserProfile& profile) {
  absl::MutexLock lock(&mu_);
  ChannelAudience& audience = channels_[channel_id];
  if (audience.users.size() >= kMaxUsersPerChannel) return;
  audience.users.try_emplace(profile.user_id, profile);
}

void Audience::AddMember(absl::string_view channel_id, absl::string_view chat_id,
                         absl::string_view user_id) {
  absl::MutexLock lock(&mu_);
  ChannelAudience& audience = channels_[channel_id];
  auto& members = audience.chats[chat_id];
  if (members.size() < kMaxUsersPerChannel) members.insert(std::string(user_id));
}

std::optional<UserProfile> Audience::FindUser(absl::string_view channel_id,
                                              absl::string_view user_id) const {
  absl::MutexLock lock(&mu_);
  return FindInChannel(channels_, channel_id, &Audience::ChannelAudience::users, user_id);
}

bool Audience::HasChat(absl::string_view channel_id, absl::string_view chat_id) const {
  absl::MutexLock lock(&mu_);
  auto channel = channels_.find(channel_id);
  return channel != channels_.end() && channel->second.chats.contains(chat_id);
}

bool Audience::IsMember(absl::string_view channel_id, absl::string_view chat_id,
                        absl::string_view user_id) const {
  absl::MutexLock lock(&mu_);
  auto channel = channels_.find(channel_id);
  if (channel == channels_.end()) return false;
  auto chat = channel->second.chats.find(chat_id);
  return chat != channel->second.chats.end() && chat->second.contains(user_id);
}

absl::Status Audience::SetBlocked(absl::string_view channel_id, absl::string_view user_id,
                                  bool blocked) {
  absl::MutexLock lock(&mu_);
  auto channel = channels_.find(channel_id);
  if (channel != channels_.end()) {
    if (auto user = channel->second.users.find(user_id); user != channel->second.users.end()) {
      user->second.blocked = blocked;
      return absl::OkStatus();
    }
  }
  return absl::NotFoundError(absl::StrCat("channel ", channel_id, " has no user ", user_id));
}

void Audience::Forget(absl::string_view channel_id) {
  absl::MutexLock lock(&mu_);
  channels_.erase(channel_id);
}

}  // namespace linechannel::fake_line
