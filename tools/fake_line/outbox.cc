#include "tools/fake_line/outbox.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "tools/fake_line/per_channel_find.h"

namespace linechannel::fake_line {
namespace {

// LINE counts its monthly quota by the calendar month in Japan.
constexpr int kJapanOffsetSeconds = 9 * 3600;

// Expired tokens and keys are swept when a map grows past this; mark-as-read tokens never
// expire, so past it they are all forgotten (a benchmark must not grow the fake for ever).
constexpr size_t kSweepAt = 100000;

int64_t MonthOf(absl::Time t) {
  const absl::CivilSecond civil = absl::ToCivilSecond(t, absl::FixedTimeZone(kJapanOffsetSeconds));
  return civil.year() * 12 + civil.month() - 1;
}

}  // namespace

MessagingSettings Outbox::settings(absl::string_view channel_id) const {
  absl::MutexLock lock(&mu_);
  auto it = channels_.find(channel_id);
  return it == channels_.end() ? MessagingSettings() : it->second.settings;
}

void Outbox::SetSettings(absl::string_view channel_id, const MessagingSettings& settings) {
  absl::MutexLock lock(&mu_);
  channels_[channel_id].settings = settings;
}

void Outbox::AddReplyToken(absl::string_view channel_id, absl::string_view token,
                           absl::string_view to) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  ChannelOutbox& outbox = channels_[channel_id];
  Sweep(outbox, now);
  outbox.reply_tokens[token] =
      ReplyToken{std::string(to), now + outbox.settings.reply_token_lifetime, false};
}

void Outbox::AddReadToken(absl::string_view channel_id, absl::string_view token,
                          absl::string_view user_id) {
  absl::MutexLock lock(&mu_);
  ChannelOutbox& outbox = channels_[channel_id];
  if (outbox.read_tokens.size() >= kSweepAt) outbox.read_tokens.clear();
  outbox.read_tokens[token] = std::string(user_id);
}

std::optional<std::string> Outbox::FindReadToken(absl::string_view channel_id,
                                                 absl::string_view token) const {
  absl::MutexLock lock(&mu_);
  return FindInChannel(channels_, channel_id, &Outbox::ChannelOutbox::read_tokens, token);
}

absl::Status Outbox::Reply(absl::string_view channel_id, absl::string_view reply_token,
                           SentRecord record) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  ChannelOutbox& outbox = channels_[channel_id];
  auto it = outbox.reply_tokens.find(reply_token);
  if (it == outbox.reply_tokens.end()) return absl::InvalidArgumentError("unknown reply token");
  if (it->second.used) return absl::InvalidArgumentError("reply token already used");
  if (now >= it->second.expires) return absl::InvalidArgumentError("reply token expired");
  it->second.used = true;
  record.to = it->second.to;
  record.accepted_at = now;
  Append(outbox, std::move(record));
  return absl::OkStatus();
}

PushOutcome Outbox::Push(absl::string_view channel_id, SentRecord record, int64_t quota_cost) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  ChannelOutbox& outbox = channels_[channel_id];
  Sweep(outbox, now);
  PushOutcome outcome;
  if (!record.retry_key.empty()) {
    auto it = outbox.retry_keys.find(record.retry_key);
    if (it != outbox.retry_keys.end() && now < it->second.accepted_at + kRetryKeyLifetime) {
      outcome.result = PushOutcome::Result::kDuplicate;
      outcome.accepted_request_id = it->second.request_id;
      outcome.accepted_messages = it->second.messages;
      return outcome;
    }
  }
  RollMonth(outbox, now);
  if (outbox.settings.message_quota >= 0 &&
      outbox.usage + quota_cost > outbox.settings.message_quota) {
    outcome.result = PushOutcome::Result::kOverQuota;
    return outcome;
  }
  outbox.usage += quota_cost;
  record.accepted_at = now;
  if (!record.retry_key.empty()) {
    outbox.retry_keys[record.retry_key] = AcceptedKey{record.request_id, record.sent_messages, now};
  }
  Append(outbox, std::move(record));
  return outcome;
}

void Outbox::Record(absl::string_view channel_id, SentRecord record) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  record.accepted_at = now;
  Append(channels_[channel_id], std::move(record));
}

int64_t Outbox::QuotaUsage(absl::string_view channel_id) const {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  auto it = channels_.find(channel_id);
  if (it == channels_.end()) return 0;
  RollMonth(it->second, now);
  return it->second.usage;
}

bool Outbox::TryAcquireRate(absl::string_view channel_id) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  ChannelOutbox& outbox = channels_[channel_id];
  const int64_t limit = outbox.settings.rate_limit_per_second;
  if (limit <= 0) return true;
  std::deque<absl::Time>& window = outbox.rate_window;
  while (!window.empty() && window.front() <= now - absl::Seconds(1)) window.pop_front();
  if (static_cast<int64_t>(window.size()) >= limit) return false;
  window.push_back(now);
  return true;
}

std::vector<SentRecord> Outbox::Records(absl::string_view channel_id, int64_t* dropped) const {
  absl::MutexLock lock(&mu_);
  auto it = channels_.find(channel_id);
  if (it == channels_.end()) {
    *dropped = 0;
    return {};
  }
  *dropped = it->second.dropped;
  return std::vector<SentRecord>(it->second.records.begin(), it->second.records.end());
}

void Outbox::Forget(absl::string_view channel_id) {
  absl::MutexLock lock(&mu_);
  channels_.erase(channel_id);
}

void Outbox::Append(ChannelOutbox& outbox, SentRecord record) {
  outbox.records.push_back(std::move(record));
  while (outbox.records.size() > kMaxRecordsPerChannel) {
    outbox.records.pop_front();
    ++outbox.dropped;
  }
}

void Outbox::RollMonth(ChannelOutbox& outbox, absl::Time now) {
  const int64_t month = MonthOf(now);
  if (month != outbox.usage_month) {
    outbox.usage_month = month;
    outbox.usage = 0;
  }
}

void Outbox::Sweep(ChannelOutbox& outbox, absl::Time now) {
  if (outbox.reply_tokens.size() >= kSweepAt) {
    absl::erase_if(outbox.reply_tokens, [now](const auto& item) {
      return item.second.used || now >= item.second.expires;
    });
  }
  if (outbox.retry_keys.size() >= kSweepAt) {
    absl::erase_if(outbox.retry_keys, [now](const auto& item) {
      return now >= item.second.accepted_at + kRetryKeyLifetime;
    });
  }
}

}  // namespace linechannel::fake_line
