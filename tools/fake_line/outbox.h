#ifndef LINECHANNEL_TOOLS_FAKE_LINE_OUTBOX_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_OUTBOX_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tools/fake_line/clock.h"

namespace linechannel::fake_line {

// How a channel's outbound calls behave; settable per channel through the control API.
struct MessagingSettings {
  int64_t message_quota = -1;         // Messages per month; -1: no target limit ("none").
  int64_t rate_limit_per_second = 0;  // Calls per second on the message endpoints; 0: none.
  absl::Duration reply_token_lifetime = absl::Minutes(1);
  absl::Duration media_processing = absl::Seconds(10);  // Until video/audio content is ready.
};

// One message object LINE reports as sent: its id and, for quotable types, a quote token.
struct SentMessageId {
  std::string id;
  std::string quote_token;  // Empty for types that cannot be quoted.
};

// One accepted outbound call, as GET /fake/channels/{id}/sent lists it.
struct SentRecord {
  std::string kind;           // "reply", "push", "markAsRead" or "loading".
  std::string to;             // User, group or room id.
  std::string messages_json;  // The request's `messages` array as sent; "" for others.
  std::vector<SentMessageId> sent_messages;
  bool notification_disabled = false;
  int64_t loading_seconds = 0;  // "loading" only.
  std::string retry_key;        // "" when the request had none.
  std::string request_id;       // The X-Line-Request-Id LINE answered the call with.
  absl::Time accepted_at;
};

// How a push went.
struct PushOutcome {
  enum class Result { kAccepted, kDuplicate, kOverQuota };
  Result result = Result::kAccepted;
  // kDuplicate: the accepted request's id and messages, for the 409 answer.
  std::string accepted_request_id;
  std::vector<SentMessageId> accepted_messages;
};

// What LINE remembers of a channel's outbound traffic: reply and mark-as-read tokens from its
// webhooks, retry keys (24 hours), the monthly message count, the per-second rate window and
// the log of accepted calls. Time comes from `clock`. Thread-safe; every call is atomic.
class Outbox {
 public:
  static constexpr size_t kMaxRecordsPerChannel = 10000;  // Older records are dropped.
  static constexpr absl::Duration kRetryKeyLifetime = absl::Hours(24);

  explicit Outbox(const FakeClock* clock) : clock_(clock) {}

  MessagingSettings settings(absl::string_view channel_id) const;
  void SetSettings(absl::string_view channel_id, const MessagingSettings& settings);

  // Remembers a reply token issued now with a webhook event from chat `to` (user, group or
  // room id); it works once, within the channel's reply_token_lifetime.
  void AddReplyToken(absl::string_view channel_id, absl::string_view token, absl::string_view to);
  // Remembers a message's mark-as-read token and the user who sent the message.
  void AddReadToken(absl::string_view channel_id, absl::string_view token,
                    absl::string_view user_id);
  // The user a mark-as-read token belongs to; nullopt if the channel never issued it.
  std::optional<std::string> FindReadToken(absl::string_view channel_id,
                                           absl::string_view token) const;

  // Uses up `reply_token` and records `record` (its `to` and `accepted_at` filled in here).
  // INVALID_ARGUMENT, recording nothing, if the token is unknown, used or expired.
  absl::Status Reply(absl::string_view channel_id, absl::string_view reply_token,
                     SentRecord record);

  // Accepts a push unless its retry key was accepted within 24 hours (kDuplicate) or the
  // month's quota has no room for `quota_cost` more messages (kOverQuota). Only an accepted
  // push is recorded, counted and has its retry key remembered.
  PushOutcome Push(absl::string_view channel_id, SentRecord record, int64_t quota_cost);

  // Records a call that needs no checks here (markAsRead, loading).
  void Record(absl::string_view channel_id, SentRecord record);

  // Messages counted this month (the calendar month in Japan time, on the fake clock).
  int64_t QuotaUsage(absl::string_view channel_id) const;

  // Takes one call from the channel's one-second window; false (taking nothing) when the
  // window is full. Always true without a rate limit.
  bool TryAcquireRate(absl::string_view channel_id);

  // Accepted calls in order, and how many older ones were dropped.
  std::vector<SentRecord> Records(absl::string_view channel_id, int64_t* dropped) const;

  // Forgets everything about the channel, settings included (it was replaced).
  void Forget(absl::string_view channel_id);

 private:
  struct ReplyToken {
    std::string to;
    absl::Time expires;
    bool used = false;
  };
  struct AcceptedKey {
    std::string request_id;
    std::vector<SentMessageId> messages;
    absl::Time accepted_at;
  };
  struct ChannelOutbox {
    MessagingSettings settings;
    absl::flat_hash_map<std::string, ReplyToken> reply_tokens;
    absl::flat_hash_map<std::string, std::string> read_tokens;
    absl::flat_hash_map<std::string, AcceptedKey> retry_keys;
    int64_t usage_month = 0;  // year * 12 + month - 1 of `usage`.
    int64_t usage = 0;
    std::deque<absl::Time> rate_window;
    std::deque<SentRecord> records;
    int64_t dropped = 0;
  };

  // Adds `record` to the log, dropping the oldest past the cap.
  static void Append(ChannelOutbox& outbox, SentRecord record);
  // Moves the month's count to the month of `now`, starting it at zero when the month changed.
  static void RollMonth(ChannelOutbox& outbox, absl::Time now);
  // Forgets expired reply tokens and retry keys once their maps have grown.
  static void Sweep(ChannelOutbox& outbox, absl::Time now);

  const FakeClock* const clock_;
  mutable absl::Mutex mu_;
  // Mutable so that readers can roll the month over.
  mutable absl::flat_hash_map<std::string, ChannelOutbox> channels_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_OUTBOX_H_
