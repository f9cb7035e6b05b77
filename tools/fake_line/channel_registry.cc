#include "tools/fake_line/channel_registry.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "tools/fake_line/random_ids.h"

namespace linechannel::fake_line {
namespace {

struct Window {
  size_t max_calls;
  absl::Duration length;
};

Window WindowFor(RateLimit limit) {
  switch (limit) {
    case RateLimit::kSetEndpoint:
      return {1000, absl::Minutes(1)};
    case RateLimit::kTestEndpoint:
      return {60, absl::Hours(1)};
  }
  return {0, absl::ZeroDuration()};
}

// Long-lived tokens in the LINE console are 172 characters; 129 random bytes give that length.
constexpr int kLongLivedTokenBytes = 129;

// Long-lived tokens never expire, yet LINE's verify reports an expires_in of about 99 years.
constexpr absl::Duration kLongLivedLifetime = absl::Hours(24 * 365 * 99);

}  // namespace

ChannelRegistry::Entry* ChannelRegistry::FindEntry(absl::string_view channel_id) {
  auto it = channels_.find(channel_id);
  return it == channels_.end() ? nullptr : it->second.get();
}

const ChannelRegistry::Entry* ChannelRegistry::FindEntry(absl::string_view channel_id) const {
  auto it = channels_.find(channel_id);
  return it == channels_.end() ? nullptr : it->second.get();
}

ChannelState ChannelRegistry::Snapshot(const Entry& entry, absl::Time now) const {
  ChannelState state = entry.state;
  const absl::Time hour_ago = now - WindowFor(RateLimit::kTestEndpoint).length;
  state.test_endpoint_calls_last_hour =
      std::count_if(entry.test_endpoint_calls.begin(), entry.test_endpoint_calls.end(),
                    [hour_ago](absl::Time t) { return t > hour_ago; });
  state.remembered_events = static_cast<int64_t>(entry.events.size());
  return state;
}

absl::Status ChannelRegistry::Upsert(const std::vector<Channel>& channels) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  std::set<std::string> ids;
  for (const Channel& channel : channels) ids.insert(channel.channel_id);
  // Check everything before changing anything, so a refused batch leaves no trace.
  std::set<std::string> tokens;
  for (const Channel& channel : channels) {
    if (!tokens.insert(channel.access_token).second) {
      return absl::AlreadyExistsError(
          absl::StrCat("channel ", channel.channel_id, ": access_token used twice in the request"));
    }
    auto owner = long_lived_tokens_.find(channel.access_token);
    if (owner != long_lived_tokens_.end() && ids.count(owner->second) == 0) {
      return absl::AlreadyExistsError(absl::StrCat(
          "channel ", channel.channel_id, ": access_token belongs to channel ", owner->second));
    }
  }
  // Drop the replaced channels' tokens first: a token may move from one channel to another
  // within the batch.
  for (const Channel& channel : channels) {
    const Entry* old = FindEntry(channel.channel_id);
    if (old == nullptr) continue;
    auto owner = long_lived_tokens_.find(old->state.channel.access_token);
    if (owner != long_lived_tokens_.end() && owner->second == channel.channel_id) {
      long_lived_tokens_.erase(owner);
    }
  }
  for (const Channel& channel : channels) {
    auto entry = std::make_unique<Entry>();
    entry->state.channel = channel;
    for (const char* key : kCallKeys) entry->state.calls[key] = 0;
    entry->token_issued_at = now;
    long_lived_tokens_[channel.access_token] = channel.channel_id;
    channels_[channel.channel_id] = std::move(entry);
  }
  return absl::OkStatus();
}

absl::StatusOr<ChannelState> ChannelRegistry::Get(absl::string_view channel_id) const {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  const Entry* entry = FindEntry(channel_id);
  if (entry == nullptr) return absl::NotFoundError(absl::StrCat("no channel ", channel_id));
  return Snapshot(*entry, now);
}

std::vector<std::string> ChannelRegistry::ChannelIds() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> ids;
  ids.reserve(channels_.size());
  for (const auto& [id, entry] : channels_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

absl::StatusOr<ChannelState> ChannelRegistry::Patch(absl::string_view channel_id,
                                                    const ChannelPatch& patch) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  Entry* entry = FindEntry(channel_id);
  if (entry == nullptr) return absl::NotFoundError(absl::StrCat("no channel ", channel_id));
  ChannelState& state = entry->state;
  std::string chat_mode = patch.chat_mode.value_or(state.channel.chat_mode);
  std::string mark_as_read_mode = patch.mark_as_read_mode.value_or(
      patch.chat_mode == "bot" ? std::string("auto") : state.channel.mark_as_read_mode);
  if (absl::Status valid = CheckChatMode(chat_mode, mark_as_read_mode); !valid.ok()) {
    return valid;
  }
  const std::vector<RichMenu>& rich_menus =
      patch.rich_menus ? *patch.rich_menus : state.channel.rich_menus;
  const std::string& default_rich_menu_id =
      patch.default_rich_menu_id.value_or(state.channel.default_rich_menu_id);
  if (absl::Status valid = CheckRichMenus(rich_menus, default_rich_menu_id); !valid.ok()) {
    return valid;
  }
  state.channel.rich_menus = rich_menus;
  state.channel.default_rich_menu_id = default_rich_menu_id;
  state.channel.chat_mode = std::move(chat_mode);
  state.channel.mark_as_read_mode = std::move(mark_as_read_mode);
  if (patch.webhook_endpoint) state.channel.webhook_endpoint = *patch.webhook_endpoint;
  if (patch.webhook_active) state.channel.webhook_active = *patch.webhook_active;
  if (patch.token_revoked) state.token_revoked = *patch.token_revoked;
  if (patch.fail_status) state.faults.fail_status = *patch.fail_status;
  if (patch.delay_ms) state.faults.delay_ms = *patch.delay_ms;
  if (patch.basic_id) state.channel.basic_id = *patch.basic_id;
  if (patch.premium_id) state.channel.premium_id = *patch.premium_id;
  if (patch.display_name) state.channel.display_name = *patch.display_name;
  if (patch.reissue_secret) state.channel.channel_secret = RandomHex(32);
  if (patch.reissue_token) {
    long_lived_tokens_.erase(state.channel.access_token);
    std::string token;
    do {
      token = RandomToken(kLongLivedTokenBytes);
    } while (long_lived_tokens_.contains(token));
    state.channel.access_token = token;
    long_lived_tokens_[token] = state.channel.channel_id;
    entry->token_issued_at = now;
    // A freshly issued token is valid even if the old one had been revoked.
    if (!patch.token_revoked) state.token_revoked = false;
  }
  return Snapshot(*entry, now);
}

std::optional<TokenOwner> ChannelRegistry::FindToken(absl::string_view token) const {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  if (auto it = long_lived_tokens_.find(token); it != long_lived_tokens_.end()) {
    const Entry* entry = FindEntry(it->second);
    if (entry == nullptr) return std::nullopt;
    TokenOwner owner;
    owner.channel_id = it->second;
    owner.revoked = entry->state.token_revoked;
    owner.expires = entry->token_issued_at + kLongLivedLifetime;
    return owner;
  }
  if (auto it = stateless_tokens_.find(token); it != stateless_tokens_.end()) {
    if (FindEntry(it->second.channel_id) == nullptr) return std::nullopt;
    TokenOwner owner;
    owner.channel_id = it->second.channel_id;
    owner.long_lived = false;
    owner.expires = it->second.expires;
    owner.expired = now >= it->second.expires;
    return owner;
  }
  return std::nullopt;
}

std::string ChannelRegistry::IssueStatelessToken(absl::string_view channel_id,
                                                 absl::Duration lifetime) {
  const absl::Time now = clock_->Now();
  std::string token = RandomToken(96);
  absl::MutexLock lock(&mu_);
  // Benchmarks issue thousands of tokens; forget the expired ones from time to time so the map
  // stays bounded by what is still valid.
  if (stateless_tokens_.size() >= stateless_sweep_at_) {
    absl::erase_if(stateless_tokens_,
                   [now](const auto& item) { return now >= item.second.expires; });
    stateless_sweep_at_ = std::max<size_t>(4096, 2 * stateless_tokens_.size());
  }
  stateless_tokens_[token] = StatelessToken{std::string(channel_id), now + lifetime};
  return token;
}

void ChannelRegistry::CountCall(absl::string_view channel_id, absl::string_view call_key) {
  absl::MutexLock lock(&mu_);
  if (Entry* entry = FindEntry(channel_id); entry != nullptr) {
    ++entry->state.calls[std::string(call_key)];
  }
}

bool ChannelRegistry::TryAcquire(absl::string_view channel_id, RateLimit limit) {
  const absl::Time now = clock_->Now();
  const Window window = WindowFor(limit);
  absl::MutexLock lock(&mu_);
  Entry* entry = FindEntry(channel_id);
  if (entry == nullptr) return false;
  std::deque<absl::Time>& calls =
      limit == RateLimit::kSetEndpoint ? entry->set_endpoint_calls : entry->test_endpoint_calls;
  while (!calls.empty() && calls.front() <= now - window.length) calls.pop_front();
  if (calls.size() >= window.max_calls) return false;
  calls.push_back(now);
  return true;
}

absl::Status ChannelRegistry::SetWebhookEndpoint(absl::string_view channel_id,
                                                 absl::string_view endpoint) {
  absl::MutexLock lock(&mu_);
  Entry* entry = FindEntry(channel_id);
  if (entry == nullptr) return absl::NotFoundError(absl::StrCat("no channel ", channel_id));
  entry->state.channel.webhook_endpoint = std::string(endpoint);
  return absl::OkStatus();
}

void ChannelRegistry::RememberEvents(
    absl::string_view channel_id, const std::vector<std::pair<std::string, std::string>>& events) {
  absl::MutexLock lock(&mu_);
  Entry* entry = FindEntry(channel_id);
  if (entry == nullptr) return;
  for (const auto& [id, raw] : events) {
    if (id.empty()) continue;
    auto [it, inserted] = entry->events.insert_or_assign(id, raw);
    if (inserted) entry->event_order.push_back(id);
    while (entry->event_order.size() > kMaxRememberedEvents) {
      entry->events.erase(entry->event_order.front());
      entry->event_order.pop_front();
    }
  }
}

std::optional<std::string> ChannelRegistry::FindEvent(absl::string_view channel_id,
                                                      absl::string_view webhook_event_id) const {
  absl::MutexLock lock(&mu_);
  const Entry* entry = FindEntry(channel_id);
  if (entry == nullptr) return std::nullopt;
  auto it = entry->events.find(webhook_event_id);
  if (it == entry->events.end()) return std::nullopt;
  return it->second;
}

Faults ChannelRegistry::global_faults() const {
  absl::MutexLock lock(&mu_);
  return global_faults_;
}

void ChannelRegistry::SetGlobalFaults(const Faults& faults) {
  absl::MutexLock lock(&mu_);
  global_faults_ = faults;
}

}  // namespace linechannel::fake_line
