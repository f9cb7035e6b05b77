#ifndef LINECHANNEL_STORAGE_BINDING_STORE_H_
#define LINECHANNEL_STORAGE_BINDING_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/binding.h"

namespace linechannel::storage {

// Stores bindings and their audit trail: one of the store's roles (store.h). Implementations
// are thread-safe.
//
// Status conventions shared by every method of every role (store.h, event_store.h,
// sealed_value_store.h, check_store.h):
//   UNAVAILABLE  storage could not read or commit (disk full, I/O error, read-only file, lock
//                held too long): nothing was changed and the call may be retried.
//   DATA_LOSS    the database is corrupt.
// Every change writes its audit row in the same transaction as the change itself, and so its
// lifecycle event (event.h): InsertActive "bound", MarkUnbound "unbound", ReplaceCredentials
// "credentials_updated", SetAttention "state_changed" when the findings changed. Lifecycle
// events go to the events table, under the binding's team and channel, with a cursor from the
// same sequence as webhook events, so a reader sees a change and its event together or
// neither.
class BindingStore {
 public:
  virtual ~BindingStore() = default;

  // Inserts `binding` as active and audits it as action "bind". Returns the stored binding
  // with `row_id` set. ALREADY_EXISTS if an active binding has the same channel id, LINE id or
  // (non-empty) bot user id, or the webhook key was ever used. When `conflict` is not null it
  // is set to the active binding that holds the OA, or to an empty Binding (row_id 0) when only
  // the webhook key (or binding id) was taken. The database's unique constraints decide, so of
  // concurrent inserts for one OA exactly one succeeds.
  virtual absl::StatusOr<Binding> InsertActive(const Binding& binding, const Change& change,
                                               Binding* conflict) = 0;

  // The team's active binding of `channel_id`. NOT_FOUND if there is none.
  virtual absl::StatusOr<Binding> FindActive(absl::string_view team_id,
                                             absl::string_view channel_id) = 0;
  // FindActive as the database answers it now, never from a cache: for an answer that must not
  // rest on a copy another process may have changed since (a bind's "already bound"). A store
  // that caches nothing need not override it.
  virtual absl::StatusOr<Binding> FindActiveNow(absl::string_view team_id,
                                                absl::string_view channel_id) {
    return FindActive(team_id, channel_id);
  }

  // The active binding whose webhook key is `webhook_key`. NOT_FOUND if none (never bound, or
  // unbound).
  virtual absl::StatusOr<Binding> FindActiveByWebhookKey(absl::string_view webhook_key) = 0;

  // Up to `limit` of the team's bindings with row ids below `after_row_id` (0: from the newest),
  // newest first; unbound ones only when `include_unbound`. INVALID_ARGUMENT if `limit` is not
  // positive.
  virtual absl::StatusOr<BindingPage> ListTeam(absl::string_view team_id, bool include_unbound,
                                               int64_t after_row_id, int limit) = 0;

  // Marks the team's active binding of `channel_id` unbound and audits it as "unbind". Returns
  // the binding as now stored. NOT_FOUND if the team has no active binding of the channel.
  virtual absl::StatusOr<Binding> MarkUnbound(absl::string_view team_id,
                                              absl::string_view channel_id,
                                              const Change& change) = 0;

  // Replaces the credentials of the active binding `row_id` and audits it as
  // "update_credentials". Returns the binding as now stored. NOT_FOUND if that binding is no
  // longer active (unbound meanwhile).
  virtual absl::StatusOr<Binding> ReplaceCredentials(int64_t row_id, const CredentialUpdate& update,
                                                     const Change& change) = 0;

  // The audit rows of binding `row_id`, oldest first.
  virtual absl::StatusOr<std::vector<AuditRecord>> ListAudit(int64_t row_id) = 0;

  // Up to `limit` audit rows of the team's bindings, active and unbound, with ids below
  // `before_id` (0: from the newest), newest first; only those of `channel_id` unless it is
  // empty. Another team's rows are never included, also for a channel both teams bound.
  // INVALID_ARGUMENT if `limit` is not positive.
  virtual absl::StatusOr<AuditPage> ListTeamAudit(absl::string_view team_id,
                                                  absl::string_view channel_id, int64_t before_id,
                                                  int limit) = 0;

  // Records what a check with LINE at `checked_at` found wrong with binding `row_id` (empty:
  // nothing), replacing the previous check's findings, with a "state_changed" lifecycle event
  // if they differ from the previous ones (a check that finds the same stores none).
  // NOT_FOUND if the binding is unbound.
  virtual absl::Status SetAttention(int64_t row_id, const std::vector<std::string>& reasons,
                                    absl::Time checked_at) = 0;

  // Records that LINE proved the unverified active binding `row_id`: sets its bot user id and
  // display name, marks it verified, clears its attention reasons (checked at `change.at`) and
  // audits it as "bind" with `change.detail`. Returns the binding as now stored. NOT_FOUND if
  // the binding is unbound, already verified, or its credentials changed after
  // `proof.credentials_updated_at`. ALREADY_EXISTS if another active binding has the bot user
  // id (the unique index decides); `conflict`, when not null, is set to that binding.
  virtual absl::StatusOr<Binding> RecordProof(int64_t row_id, const Proof& proof,
                                              const Change& change, Binding* conflict) = 0;

  // Up to `limit` active bindings with row ids above `after_row_id`, in row order (for going
  // over every binding).
  virtual absl::StatusOr<std::vector<Binding>> ListActive(int64_t after_row_id, int limit) = 0;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_BINDING_STORE_H_
