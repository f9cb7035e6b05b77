#include "server/messaging/push_sender.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/base/errors.h"
#include "server/base/logger.h"
#include "server/crypto/sealing_contexts.h"
#include "server/messaging/line_call.h"
#include "server/messaging/sent_messages.h"

namespace linechannel::server {
namespace {

using storage::PushAttempt;
using storage::PushRecord;
using storage::PushState;

// Outcomes after which LINE may still accept the push: it did not, or may not have, acted on
// it, and the same retry key keeps a second acceptance from sending twice.
bool WorthRetrying(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      return true;
    case absl::StatusCode::kResourceExhausted:
      return ErrorReason(status) == reason::kLineRateLimited;
    default:
      return false;
  }
}

std::string ReasonOf(const absl::Status& status) {
  std::optional<std::string> reason = ErrorReason(status);
  return reason ? *reason : std::string(reason::kLineUnavailable);
}

}  // namespace

PushSender::PushSender(storage::PushOutbox* outbox, storage::BindingStore* bindings,
                       storage::JobSchedule* jobs, LineMessagingApi* line,
                       const SecretSealer* sealer, const Clock* clock, Metrics* metrics,
                       Options options)
    : outbox_(outbox),
      bindings_(bindings),
      jobs_(jobs),
      line_(line),
      sealer_(sealer),
      clock_(clock),
      metrics_(metrics),
      options_(options) {}

PushSender::~PushSender() { Stop(); }

void PushSender::Start() {
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this, i] { RetryLoop(i == 0); });
  }
}

void PushSender::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

absl::StatusOr<PushRecord> PushSender::Attempt(const PushRecord& push,
                                               const storage::Binding& binding,
                                               absl::Time deadline) {
  const absl::Time started = clock_->Now();
  absl::StatusOr<LineSendResult> sent;
  if (absl::StatusOr<Secret> token =
          sealer_->Unseal(binding.access_token, TokenContext(binding.channel_id));
      !token.ok()) {
    sent = WithReason(token.status());
  } else {
    sent = line_->Push(*token, push.to, push.messages_json, push.notification_disabled,
                       push.retry_key, LineDeadline(deadline, started, options_.call_timeout));
    if (!sent.ok()) sent = AnswerLineRefusal(sent.status(), binding, bindings_, clock_);
  }
  const absl::Time now = clock_->Now();
  metrics_->RecordLineCall(
      "push",
      sent.ok() && sent->already_accepted ? "already_accepted" : LineCallResult(sent.status()),
      now - started);
  PushAttempt attempt = Outcome(push, sent, now);
  LogLine(LogLevel::kInfo, "push_attempt")
      .With("binding_id", binding.binding_id)
      .With("request_id", push.request_id)
      .With("attempt", push.attempts)
      .With("messages_bytes", static_cast<int64_t>(push.messages_json.size()))
      .With("outcome", attempt.outcome == PushState::kSent     ? "sent"
                       : attempt.outcome == PushState::kFailed ? "failed"
                                                               : "retry")
      .With("reason", attempt.failure_reason)
      .With("line_request_id", attempt.line_request_id);
  return outbox_->RecordAttempt(attempt);
}

PushAttempt PushSender::Outcome(const PushRecord& push, const absl::StatusOr<LineSendResult>& sent,
                                absl::Time now) {
  PushAttempt attempt;
  attempt.push_id = push.id;
  attempt.at = now;
  if (sent.ok()) {
    attempt.outcome = PushState::kSent;
    attempt.line_request_id = sent->request_id;
    attempt.sent_messages_json = EncodeSentMessages(sent->sent_messages);
    return attempt;
  }
  attempt.failure_reason = ReasonOf(sent.status());
  attempt.failure_message = std::string(sent.status().message());
  if (!WorthRetrying(sent.status())) {
    attempt.outcome = PushState::kFailed;
    return attempt;
  }
  const absl::Time next = NextAttemptAt(push.attempts, sent.status(), now);
  if (next - push.accepted_at > options_.give_up_after) {
    attempt.outcome = PushState::kFailed;
    attempt.failure_reason = reason::kLineUnavailable;
    attempt.failure_message = absl::StrCat(
        "LINE did not accept the push within ", absl::FormatDuration(options_.give_up_after),
        " of its acceptance; it was not tried again because LINE forgets a retry key "
        "after 24 hours. Last error: ",
        sent.status().message());
    return attempt;
  }
  attempt.outcome = PushState::kPending;
  attempt.next_attempt_at = next;
  return attempt;
}

absl::Time PushSender::NextAttemptAt(int attempts, const absl::Status& failure, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (std::optional<absl::Duration> asked = RetryDelayOf(failure);
      asked && ErrorReason(failure) == reason::kLineRateLimited) {
    // Never before LINE asked; spread over half as much again.
    return now + *asked * absl::Uniform(jitter_, 1.0, 1.5);
  }
  absl::Duration backoff = options_.first_retry;
  for (int i = 1; i < attempts && backoff < options_.max_retry; ++i) backoff *= 2;
  backoff = std::min(backoff, options_.max_retry);
  return now + backoff * absl::Uniform(jitter_, 0.5, 1.5);
}

void PushSender::AttemptLeased(const PushRecord& push) {
  // The push names its binding by row; ListActive from just below it finds it if still bound.
  absl::StatusOr<std::vector<storage::Binding>> found =
      bindings_->ListActive(push.binding_row_id - 1, 1);
  if (!found.ok()) {
    LogLine(LogLevel::kWarning, "push_retry_failed").WithStatus(found.status());
    return;  // The lease runs out and the push comes due again.
  }
  if (found->empty() || found->front().row_id != push.binding_row_id) {
    PushAttempt ended;
    ended.push_id = push.id;
    ended.at = clock_->Now();
    ended.outcome = PushState::kFailed;
    ended.failure_reason = reason::kBindingNotFound;
    ended.failure_message = "the OA was unbound before LINE accepted the push";
    if (absl::StatusOr<PushRecord> recorded = outbox_->RecordAttempt(ended); !recorded.ok()) {
      LogLine(LogLevel::kWarning, "push_retry_failed").WithStatus(recorded.status());
    }
    return;
  }
  absl::StatusOr<PushRecord> recorded =
      Attempt(push, found->front(), clock_->Now() + options_.call_timeout);
  if (!recorded.ok())
    LogLine(LogLevel::kWarning, "push_retry_failed").WithStatus(recorded.status());
}

absl::StatusOr<int> PushSender::DeleteOld() {
  constexpr int kBatch = 500;
  const absl::Time cutoff = clock_->Now() - options_.keep;
  int total = 0;
  while (true) {
    absl::StatusOr<int> deleted = outbox_->DeleteEndedBefore(cutoff, kBatch);
    if (!deleted.ok()) return deleted.status();
    total += *deleted;
    if (*deleted < kBatch) return total;
  }
}

void PushSender::RetryLoop(bool with_retention) {
  constexpr int kBatch = 4;
  constexpr absl::Duration kRetentionPeriod = absl::Minutes(1);
  absl::Time retention_due = clock_->Now() + kRetentionPeriod;
  while (true) {
    const absl::Time now = clock_->Now();
    if (with_retention && now >= retention_due) {
      retention_due = now + kRetentionPeriod;
      absl::StatusOr<int> deleted = 0;
      absl::StatusOr<bool> ran =
          jobs_->RunIfDue("push_retention", kRetentionPeriod, now, [&] { deleted = DeleteOld(); });
      if (!ran.ok()) deleted = ran.status();
      if (!deleted.ok()) {
        LogLine(LogLevel::kWarning, "push_retention_failed").WithStatus(deleted.status());
      } else if (*deleted > 0) {
        LogLine(LogLevel::kInfo, "push_retention").With("deleted_pushes", *deleted);
      }
    }
    absl::StatusOr<std::vector<PushRecord>> due =
        outbox_->LeaseDue(now, now + options_.lease, kBatch);
    if (!due.ok()) LogLine(LogLevel::kWarning, "push_lease_failed").WithStatus(due.status());
    const bool more = due.ok() && static_cast<int>(due->size()) == kBatch;
    if (due.ok()) {
      for (const PushRecord& push : *due) {
        // A push whose lease would run out during the call is left for the next lease, so
        // two senders never hold it at once.
        if (clock_->Now() + options_.call_timeout < push.lease_until) AttemptLeased(push);
      }
    }
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    if (!more) {
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.poll);
      if (stopping_) return;
    }
  }
}

}  // namespace linechannel::server
