#include "server/binding/periodic_recheck.h"

#include <algorithm>
#include <vector>

#include "absl/time/clock.h"
#include "server/base/logger.h"
#include "server/binding/recheck_schedule.h"

namespace linechannel::server {
namespace {

// How long one binding's checks may take with LINE.
constexpr absl::Duration kCheckDeadline = absl::Seconds(30);

}  // namespace

PeriodicRecheck::PeriodicRecheck(storage::BindingStore* store, storage::JobSchedule* jobs,
                                 BindingService* bindings, LineWebhookSettings* checks,
                                 const BindingProof* proof, const Clock* clock, Options options)
    : store_(store),
      jobs_(jobs),
      bindings_(bindings),
      checks_(checks),
      proof_(proof),
      clock_(clock),
      options_(options),
      thread_([this] { Loop(); }) {}

PeriodicRecheck::~PeriodicRecheck() {
  stop_.Stop();
  thread_.join();
}

absl::Duration PeriodicRecheck::TickOf(const Options& options) {
  return std::min({absl::Minutes(1), options.interval, options.unverified_first_retry});
}

void PeriodicRecheck::CheckOne(const storage::Binding& binding, Counts& counts) {
  const absl::Status status =
      checks_->Recheck(binding, bindings_->WebhookUrl(binding), absl::Now() + kCheckDeadline);
  ++counts.checked;
  if (!status.ok()) {
    LogLine(LogLevel::kWarning, "recheck_skipped")
        .With("binding_id", binding.binding_id)
        .WithStatus(status);
  }
}

void PeriodicRecheck::ProveOne(const storage::Binding& binding, absl::Time now, Counts& counts) {
  absl::StatusOr<BindingProof::Outcome> outcome =
      proof_->Prove(binding, absl::Now() + kCheckDeadline);
  ++counts.checked;
  Retry& retry = retries_[binding.row_id];
  if (!outcome.ok()) {
    retry.wait = NextUnverifiedWait(retry.wait, options_.unverified_first_retry,
                                    options_.unverified_max_retry);
    retry.next = now + retry.wait;
    LogLine(LogLevel::kInfo, "binding_still_unverified")
        .With("binding_id", binding.binding_id)
        .With("next_try_in", absl::FormatDuration(retry.wait))
        .WithStatus(outcome.status());
    return;
  }
  switch (*outcome) {
    case BindingProof::Outcome::kProved: {
      ++counts.proved;
      retries_.erase(binding.row_id);
      LogLine(LogLevel::kInfo, "binding_verified").With("binding_id", binding.binding_id);
      // Proved values say nothing yet about the webhook URL and "Use webhook".
      storage::Binding proved = binding;
      proved.verified_with_line = true;
      proved.attention_reasons.clear();
      CheckOne(proved, counts);
      return;
    }
    case BindingProof::Outcome::kRejected:
      ++counts.rejected;
      retry.wait = options_.unverified_max_retry;
      retry.next = now + retry.wait;
      LogLine(LogLevel::kWarning, "binding_not_verified").With("binding_id", binding.binding_id);
      return;
    case BindingProof::Outcome::kGone:
      retries_.erase(binding.row_id);
      return;
  }
}

bool PeriodicRecheck::RunRound(absl::Time from, absl::Time now, Counts& counts) {
  const absl::Duration pause = absl::Seconds(1.0 / options_.per_second);
  std::map<int64_t, Retry> seen;
  int64_t after = 0;
  while (true) {
    absl::StatusOr<std::vector<storage::Binding>> batch = store_->ListActive(after, 100);
    if (!batch.ok()) {
      LogLine(LogLevel::kWarning, "recheck_failed").WithStatus(batch.status());
      return false;
    }
    if (batch->empty()) break;
    for (const storage::Binding& binding : *batch) {
      after = binding.row_id;
      if (!binding.verified_with_line) {
        auto known = retries_.find(binding.row_id);
        if (known == retries_.end() ||
            known->second.credentials_updated_at != binding.credentials_updated_at) {
          // New to this process, or new credentials: start over.
          retries_[binding.row_id] = {
              binding.credentials_updated_at, options_.unverified_first_retry,
              binding.credentials_updated_at + options_.unverified_first_retry};
        }
        if (retries_[binding.row_id].next <= now) {
          ProveOne(binding, now, counts);
          if (!stop_.SleepFor(pause)) return false;
        }
        if (auto it = retries_.find(binding.row_id); it != retries_.end()) seen.insert(*it);
        continue;
      }
      if (!RecheckDueIn(binding.binding_id, options_.interval, from, now)) continue;
      // Another replica (or VerifyWebhook) looked at it within this interval.
      if (binding.checked_at && now - *binding.checked_at < options_.interval / 2) continue;
      CheckOne(binding, counts);
      if (!stop_.SleepFor(pause)) return false;
    }
  }
  // Forgets bindings proved, unbound or gone since.
  retries_ = std::move(seen);
  return true;
}

void PeriodicRecheck::Loop() {
  const absl::Duration tick = TickOf(options_);
  // The places that passed before this process started were another process's to check (or
  // nobody's, the first time): starting at now is what keeps a restart from checking everyone.
  absl::Time checked_until = clock_->Now();
  while (stop_.SleepFor(tick)) {
    const absl::Time now = clock_->Now();
    Counts counts;
    absl::StatusOr<bool> ran = jobs_->RunIfDue("periodic_recheck", tick, now, [&] {
      if (RunRound(checked_until, now, counts)) checked_until = now;
    });
    if (!ran.ok()) {
      LogLine(LogLevel::kWarning, "recheck_failed").WithStatus(ran.status());
    } else if (*ran && counts.checked > 0) {
      LogLine(LogLevel::kInfo, "recheck")
          .With("bindings_checked", counts.checked)
          .With("unverified_proved", counts.proved)
          .With("unverified_rejected", counts.rejected);
    }
  }
}

}  // namespace linechannel::server
