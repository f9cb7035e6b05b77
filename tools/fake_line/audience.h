#ifndef LINECHANNEL_TOOLS_FAKE_LINE_AUDIENCE_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_AUDIENCE_H_

#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace linechannel::fake_line {

// A LINE user as an OA sees them through the profile API.
struct UserProfile {
  std::string user_id;
  std::string display_name;
  std::string picture_url;     // Empty: left out of the profile.
  std::string status_message;  // Empty: left out.
  std::string language;        // Empty: left out (the user has not agreed to the policy).
  bool blocked = false;        // The user blocked the OA: no profile, no pushes.
};

// A profile the fake makes up for `user_id`: the same id always gets the same profile.
UserProfile InventProfile(absl::string_view user_id);

// The users, groups and rooms each channel knows: the ones the fake invented for its webhooks
// or was told about. A user id the fake never invented does not exist. Thread-safe.
class Audience {
 public:
  // How many users each channel remembers; past this, new users are still served but not
  // remembered, so a benchmark cannot grow the fake without bound.
  static constexpr size_t kMaxUsersPerChannel = 200000;

  // Remembers `profile` unless the user is already known (a known user keeps their profile).
  void AddUser(absl::string_view channel_id, const UserProfile& profile);
  // Remembers that `user_id` is in the group or room `chat_id` ("C..." or "R...").
  void AddMember(absl::string_view channel_id, absl::string_view chat_id,
                 absl::string_view user_id);
  // The user's profile; nullopt if the channel never met them.
  std::optional<UserProfile> FindUser(absl::string_view channel_id,
                                      absl::string_view user_id) const;
  // True if the channel knows the group or room `chat_id`.
  bool HasChat(absl::string_view channel_id, absl::string_view chat_id) const;
  // True if `user_id` is a known member of the group or room `chat_id`.
  bool IsMember(absl::string_view channel_id, absl::string_view chat_id,
                absl::string_view user_id) const;
  // Marks the user as having blocked the OA (or unblocked it). NOT_FOUND if unknown.
  absl::Status SetBlocked(absl::string_view channel_id, absl::string_view user_id, bool blocked);
  // Forgets everything about the channel (it was replaced).
  void Forget(absl::string_view channel_id);

 private:
  struct ChannelAudience {
    absl::flat_hash_map<std::string, UserProfile> users;
    // Group or room id -> its members.
    absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> chats;
  };

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, ChannelAudience> channels_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_AUDIENCE_H_
