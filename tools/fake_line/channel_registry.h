#ifndef LINECHANNEL_TOOLS_FAKE_LINE_CHANNEL_REGISTRY_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_CHANNEL_REGISTRY_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tools/fake_line/channel.h"
#include "tools/fake_line/clock.h"

namespace linechannel::fake_line {

// A change to one channel, from PATCH /fake/channels/{id}. Unset fields stay as they are.
struct ChannelPatch {
  std::optional<std::string> webhook_endpoint;  // "" clears it.
  std::optional<bool> webhook_active;
  std::optional<bool> token_revoked;
  bool reissue_secret = false;  // New random 32-hex secret; the old one stops working.
  bool reissue_token = false;   // New long-lived token; the old one becomes unknown.
  std::optional<int> fail_status;
  std::optional<int64_t> delay_ms;
  std::optional<std::string> basic_id;
  std::optional<std::string> premium_id;
  std::optional<std::string> display_name;
  std::optional<std::string> chat_mode;
  std::optional<std::string> mark_as_read_mode;
  std::optional<std::vector<RichMenu>> rich_menus;  // Replaces the list.
  std::optional<std::string> default_rich_menu_id;  // "" cancels it.
};

// Who an access token belongs to, as of the fake clock's now.
struct TokenOwner {
  std::string channel_id;
  bool long_lived = true;  // false: a stateless token from /oauth2/v3/token.
  bool revoked = false;    // Long-lived only: the channel's token_revoked switch.
  bool expired = false;    // Stateless only: its 15 minutes are over.
  // Stateless: issue time + 15 minutes. Long-lived tokens never expire, but verify reports an
  // expires_in as LINE does: 99 years after the token was issued.
  absl::Time expires = absl::InfiniteFuture();
};

// The per-channel rate limits LINE enforces that the fake reproduces.
enum class RateLimit {
  kSetEndpoint,   // 1,000 per minute.
  kTestEndpoint,  // 60 per hour.
};

// All state of the fake platform: channels, their tokens, switches, counters, rate-limit windows
// and the events sent to them, plus the global faults. Time comes from `clock`. Thread-safe; every
// method is short and never blocks on I/O.
class ChannelRegistry {
 public:
  // How many sent events each channel remembers for redelivery; older ones are forgotten.
  static constexpr size_t kMaxRememberedEvents = 10000;

  explicit ChannelRegistry(const FakeClock* clock) : clock_(clock) {}

  // Adds each channel; a channel whose id exists replaces it together with all its state
  // (switches, faults, counters, rate-limit windows, remembered events). All or nothing:
  // ALREADY_EXISTS if an access_token is used twice in `channels` or by a channel outside it.
  absl::Status Upsert(const std::vector<Channel>& channels);

  // A snapshot of one channel. NOT_FOUND if unknown.
  absl::StatusOr<ChannelState> Get(absl::string_view channel_id) const;

  // Every channel id, sorted.
  std::vector<std::string> ChannelIds() const;

  // Applies `patch` (validated by the caller) and returns the new state. NOT_FOUND if unknown.
  // Chat modes are checked together with the current ones: INVALID_ARGUMENT, changing nothing,
  // if the result would not fit (see CheckChatMode); turning chat off without naming a
  // mark_as_read_mode switches it to "auto". Likewise the rich menus (see CheckRichMenus): a
  // new list without the current default is refused unless the default changes too.
  absl::StatusOr<ChannelState> Patch(absl::string_view channel_id, const ChannelPatch& patch);

  // The owner of a long-lived or stateless token; nullopt if no channel owns it.
  std::optional<TokenOwner> FindToken(absl::string_view token) const;

  // Issues a new stateless token for `channel_id`, valid for `lifetime` from now.
  std::string IssueStatelessToken(absl::string_view channel_id, absl::Duration lifetime);

  // Counts one call to management endpoint `call_key` (see kCallKeys). No-op if unknown.
  void CountCall(absl::string_view channel_id, absl::string_view call_key);

  // Takes one call from the channel's sliding window for `limit`. False when the window is
  // full (the call must answer 429); a refused call does not use up the window.
  bool TryAcquire(absl::string_view channel_id, RateLimit limit);

  // Sets the webhook URL, as PUT /v2/bot/channel/webhook/endpoint does. NOT_FOUND if unknown.
  absl::Status SetWebhookEndpoint(absl::string_view channel_id, absl::string_view endpoint);

  // Remembers events sent to a channel, as (webhookEventId, exact JSON text) pairs, for
  // redelivery. Events without an id are not remembered. No-op if the channel is unknown.
  void RememberEvents(absl::string_view channel_id,
                      const std::vector<std::pair<std::string, std::string>>& events);

  // The exact JSON text of a remembered event; nullopt if not remembered.
  std::optional<std::string> FindEvent(absl::string_view channel_id,
                                       absl::string_view webhook_event_id) const;

  Faults global_faults() const;
  void SetGlobalFaults(const Faults& faults);

 private:
  struct Entry {
    ChannelState state;
    absl::Time token_issued_at;
    std::deque<absl::Time> set_endpoint_calls;
    std::deque<absl::Time> test_endpoint_calls;
    std::deque<std::string> event_order;
    absl::flat_hash_map<std::string, std::string> events;
  };
  struct StatelessToken {
    std::string channel_id;
    absl::Time expires;
  };

  Entry* FindEntry(absl::string_view channel_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const Entry* FindEntry(absl::string_view channel_id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  ChannelState Snapshot(const Entry& entry, absl::Time now) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const FakeClock* const clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Entry>> channels_ ABSL_GUARDED_BY(mu_);
  // Long-lived token -> channel id.
  absl::flat_hash_map<std::string, std::string> long_lived_tokens_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, StatelessToken> stateless_tokens_ ABSL_GUARDED_BY(mu_);
  // Expired stateless tokens are swept when the map grows past this size.
  size_t stateless_sweep_at_ ABSL_GUARDED_BY(mu_) = 4096;
  Faults global_faults_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_CHANNEL_REGISTRY_H_
