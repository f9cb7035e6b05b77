#include "server/webhook/webhook_receiver.h"

#include "absl/strings/str_cat.h"
#include "server/crypto/sealing_contexts.h"
#include "server/base/logger.h"
#include "server/webhook/webhook_payload.h"
#include "server/crypto/webhook_signature.h"

namespace linechannel::server {

WebhookReceiver::WebhookReceiver(storage::BindingStore* bindings, storage::EventStore* events,
                                 const SecretSealer* sealer, const Clock* clock,
                                 EventNotifier* notifier, size_t secret_memo_size)
    : bindings_(bindings),
      events_(events),
      sealer_(sealer),
      clock_(clock),
      notifier_(notifier),
      secrets_(secret_memo_size) {}

absl::StatusOr<Secret> WebhookReceiver::ChannelSecret(const storage::Binding& binding) {
  const storage::SealedValue& sealed = binding.channel_secret;
  // Length-prefixed, so no two (key, channel, ciphertext) triples make one memo key.
  const std::string memo_key =
      absl::StrCat(sealed.key_id.size(), ":", sealed.key_id, binding.channel_id.size(), ":",
                   binding.channel_id, sealed.ciphertext);
  {
    absl::MutexLock lock(&memo_mu_);
    if (std::optional<Secret> memo = secrets_.Get(memo_key)) return *std::move(memo);
  }
  absl::StatusOr<Secret> secret = sealer_->Unseal(sealed, SecretContext(binding.channel_id));
  if (!secret.ok()) return secret.status();
  absl::MutexLock lock(&memo_mu_);
  secrets_.Put(memo_key, *secret);
  return secret;
}

absl::StatusOr<WebhookReceiver::Target> WebhookReceiver::Resolve(absl::string_view webhook_key) {
  absl::StatusOr<storage::Binding> binding = bindings_->FindActiveByWebhookKey(webhook_key);
  if (!binding.ok()) return binding.status();
  absl::StatusOr<Secret> secret = ChannelSecret(*binding);
  if (!secret.ok()) return secret.status();
  Target target;
  target.row_id = binding->row_id;
  target.binding_id = binding->binding_id;
  target.team_id = binding->team_id;
  target.channel_id = binding->channel_id;
  target.webhook_key = binding->webhook_key;
  target.bot_user_id = binding->bot_user_id;
  target.channel_secret = *std::move(secret);
  return target;
}

void WebhookReceiver::RecordTroubleThenAnswer(const Target& target, storage::WebhookTrouble trouble,
                                              Outcome outcome, std::function<void(Outcome)> done) {
  const absl::Time now = clock_->Now();
  {
    absl::MutexLock lock(&mu_);
    absl::Time& last = last_recorded_[{target.row_id, static_cast<int>(trouble)}];
    if (now - last < storage::kTroubleRecordInterval) return done(std::move(outcome));
    last = now;
  }
  events_->RecordTrouble(
      target.row_id, trouble, now,
      [outcome = std::move(outcome), done = std::move(done)](absl::Status status) {
        if (!status.ok()) {
          LogLine(LogLevel::kWarning, "webhook_trouble_not_recorded").WithStatus(status);
        }
        done(outcome);
      });
}

namespace {

// The newest of LINE's botSuspended and botResumed events among `events`, which the store
// applies to the binding with them.
std::optional<storage::BotStatusChange> NewestBotStatus(
    const std::vector<storage::NewEvent>& events) {
  std::optional<storage::BotStatusChange> newest;
  for (const storage::NewEvent& e : events) {
    if (e.type != "botSuspended" && e.type != "botResumed") continue;
    const absl::Time at = absl::FromUnixMillis(e.timestamp_ms);
    if (newest.has_value() && newest->at > at) continue;
    newest = storage::BotStatusChange{e.type == "botSuspended", at};
  }
  return newest;
}

}  // namespace

void WebhookReceiver::Receive(const Target& target, std::optional<absl::string_view> signature,
                              std::string body, std::function<void(Outcome)> done) {
  if (!signature.has_value()) {
    return RecordTroubleThenAnswer(target, storage::WebhookTrouble::kBadSignature,
                                   {401, "missing x-line-signature header"}, std::move(done));
  }
  if (!IsValidWebhookSignature(target.channel_secret, body, *signature)) {
    return RecordTroubleThenAnswer(
        target, storage::WebhookTrouble::kBadSignature,
        {401, "x-line-signature does not match the body and this channel's secret"},
        std::move(done));
  }
  absl::StatusOr<WebhookPayload> payload = ParseWebhookPayload(body);
  if (!payload.ok()) {
    done({400, std::string(payload.status().message())});
    return;
  }
  if (!target.bot_user_id.empty() && payload->destination != target.bot_user_id) {
    LogLine(LogLevel::kWarning, "webhook_destination_mismatch")
        .With("binding_id", target.binding_id)
        .With("team_id", target.team_id)
        .With("channel_id", target.channel_id)
        .With("destination", payload->destination)
        .With("bot_user_id", target.bot_user_id);
    return RecordTroubleThenAnswer(target, storage::WebhookTrouble::kDestinationMismatch,
                                   {403, absl::StrCat("destination ", payload->destination,
                                                      " is not the bot of this webhook URL")},
                                   std::move(done));
  }

  storage::EventBatch batch;
  batch.binding_row_id = target.row_id;
  batch.team_id = target.team_id;
  batch.channel_id = target.channel_id;
  batch.received_at = clock_->Now();
  batch.events = std::move(payload->events);
  batch.bot_status = NewestBotStatus(batch.events);
  events_->AppendEvents(
      std::move(batch), [this, done = std::move(done)](absl::StatusOr<storage::AppendResult> r) {
        if (!r.ok()) {
          // The details are for operators, not for whoever called the public port.
          LogLine(LogLevel::kWarning, "webhook_events_not_stored").WithStatus(r.status());
          done({503, "events not stored; retry"});
          return;
        }
        if (r->stored > 0 || r->lifecycle_stored > 0) notifier_->Publish(r->last_cursor);
        done({200, "", r->stored, r->duplicates});
      });
}

}  // namespace linechannel::server
