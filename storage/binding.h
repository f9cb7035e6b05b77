#ifndef LINECHANNEL_STORAGE_BINDING_H_
#define LINECHANNEL_STORAGE_BINDING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace linechannel::storage {

// A secret sealed by the server before it reaches storage. Opaque here: the store keeps and
// returns the bytes and never interprets them.
struct SealedValue {
  // Which sealing key produced `ciphertext`, so keys can rotate.
  std::string key_id;
  std::string ciphertext;

  bool operator==(const SealedValue& other) const {
    return key_id == other.key_id && ciphertext == other.ciphertext;
  }
};

// What the webhook endpoint has seen for a binding; unset when never.
struct WebhookActivity {
  std::optional<absl::Time> last_signed_request;
  std::optional<absl::Time> last_bad_signature;
  std::optional<absl::Time> last_destination_mismatch;
};

// One team's binding of one LINE Official Account, active or unbound.
struct Binding {
  // Store-assigned row id; 0 before insertion. Internal: never shown to users.
  int64_t row_id = 0;
  // The public, random id of the binding.
  std::string binding_id;
  std::string team_id;
  std::string app_name;
  std::string channel_id;
  // Lower case, without the leading "@".
  std::string line_id;
  // Empty when unknown (bound with LINE checks off).
  std::string bot_user_id;
  std::string bot_display_name;
  // The random part of the webhook URL; unique across all bindings ever made.
  std::string webhook_key;
  SealedValue channel_secret;
  SealedValue access_token;
  // The last characters of the secret and token, for people to recognise them.
  std::string channel_secret_hint;
  std::string access_token_hint;
  bool verified_with_line = false;
  absl::Time bound_at;
  std::string bound_by;
  absl::Time credentials_updated_at;
  // Set once unbound; an unbound binding is history and never becomes active again.
  std::optional<absl::Time> unbound_at;
  std::string unbound_by;
  // What the last check with LINE (VerifyWebhook or the periodic re-check) found wrong, in
  // plain words; empty when it found nothing or there was no check yet.
  std::vector<std::string> attention_reasons;
  std::optional<absl::Time> checked_at;
  // LINE told (botSuspended) that the bot is suspended and has not told of its return
  // (botResumed) since.
  bool bot_suspended = false;
  // Read along with the binding.
  WebhookActivity activity;

  bool active() const { return !unbound_at.has_value(); }
};

// VerifyWebhook's last full answer for a binding, opaque here.
struct CheckRecord {
  absl::Time checked_at;
  std::string result;
};

// Who changes a binding, when and why; written as an audit row in the same transaction.
struct Change {
  std::string actor;
  absl::Time at;
  // Free text for people, for example "secret,token" for a credential update. Never secrets.
  std::string detail;
};

// An audit row: one per bind, unbind and credential update.
struct AuditRecord {
  int64_t id = 0;
  int64_t binding_row_id = 0;
  // The binding's public id.
  std::string binding_id;
  std::string team_id;
  std::string channel_id;
  // "bind", "unbind" or "update_credentials".
  std::string action;
  std::string actor;
  absl::Time at;
  std::string detail;
};

// One page of a team's audit rows, newest first.
struct AuditPage {
  std::vector<AuditRecord> records;
  // Pass as `before_id` to get the next page; 0 when this is the last page.
  int64_t next_before_id = 0;
};

// New credentials for an active binding; unset members keep the stored value.
struct CredentialUpdate {
  std::optional<SealedValue> channel_secret;
  std::optional<std::string> channel_secret_hint;
  std::optional<SealedValue> access_token;
  std::optional<std::string> access_token_hint;
};

// What LINE proved, after the fact, about a binding made unverified (LINE unreachable at bind
// time): the OA's bot, and which credentials were proved.
struct Proof {
  std::string bot_user_id;
  std::string bot_display_name;
  // The binding's `credentials_updated_at` when its credentials were read for the proof: a
  // credential update since then makes the proof stale.
  absl::Time credentials_updated_at;
};

// One page of a team's bindings, newest first.
struct BindingPage {
  std::vector<Binding> bindings;
  // Pass as `after_row_id` to get the next page; 0 when this is the last page.
  int64_t next_after_row_id = 0;
};

// A binding's sealed values, for re-sealing them under a new key.
struct SealedRow {
  int64_t row_id = 0;
  std::string channel_id;
  SealedValue channel_secret;
  SealedValue access_token;
};

// One sealed value per sealing key in use, so the server can prove at start-up that it holds
// every key the database needs.
struct SealedSample {
  std::string channel_id;
  // "channel_secret" or "access_token": the sealing context the server used.
  std::string field;
  SealedValue value;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_BINDING_H_
