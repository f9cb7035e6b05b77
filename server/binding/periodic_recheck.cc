#include "server/binding/periodic_recheck.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "server/base/logger.h"

namespace linechannel::server {

PeriodicRecheck::PeriodicRecheck(storage::BindingStore* store, storage::JobSchedule* jobs,
                                 BindingService* bindings, LineWebhookSettings* checks,
                                 Options options)
    : store_(store),
      jobs_(jobs),
      bindings_(bindings),
      checks_(checks),
      options_(options),
      thread_([this] { Loop(); }) {}

PeriodicRecheck::~PeriodicRecheck() {
  stop_.Stop();
  thread_.join();
}

int PeriodicRecheck::RunOnce() {
  const absl::Duration pause = absl::Seconds(1.0 / options_.per_second);
  int checked = 0;
  int64_t after = 0;
  while (true) {
    absl::StatusOr<std::vector<storage::Binding>> batch = store_->ListActive(after, 100);
    if (!batch.ok()) {
      LogLine(LogLevel::kWarning, "recheck_failed").WithStatus(batch.status());
      return checked;
    }
    if (batch->empty()) return checked;
    for (const storage::Binding& binding : *batch) {
      after = binding.row_id;
      const absl::Status status = checks_->Recheck(binding, bindings_->WebhookUrl(binding),
                                                   absl::Now() + absl::Seconds(30));
      ++checked;
      if (!status.ok()) {
        LogLine(LogLevel::kWarning, "recheck_skipped")
            .With("binding_id", binding.binding_id)
            .WithStatus(status);
      }
      if (!stop_.SleepFor(pause)) return checked;
    }
  }
}

void PeriodicRecheck::Loop() {
  while (stop_.SleepFor(std::min(options_.interval, absl::Minutes(1)))) {
    int checked = 0;
    absl::StatusOr<bool> ran = jobs_->RunIfDue("periodic_recheck", options_.interval,
                                               absl::Now(), [&] { checked = RunOnce(); });
    if (!ran.ok()) {
      LogLine(LogLevel::kWarning, "recheck_failed").WithStatus(ran.status());
    } else if (*ran) {
      LogLine(LogLevel::kInfo, "recheck").With("bindings_checked", checked);
    }
  }
}

}  // namespace linechannel::server
