#ifndef LINECHANNEL_STORAGE_STORE_H_
#define LINECHANNEL_STORAGE_STORE_H_

#include "storage/binding_store.h"
#include "storage/check_store.h"
#include "storage/event_store.h"
#include "storage/job_schedule.h"
#include "storage/push_outbox.h"
#include "storage/sealed_value_store.h"

namespace linechannel::storage {

// The store by role: the server assembly wires one Store and hands each part of the server
// only the roles it uses. The roles may be one object (SqliteStore and PostgresStore
// implement all of them) or several (CachingStore wraps some roles of an inner store and
// passes the others on). Not an owner: whoever made the implementations keeps them alive while the Store is in use.
struct Store {
  // Bindings and their audit trail (binding_store.h).
  BindingStore* bindings = nullptr;
  // Sealed values and key rotation (sealed_value_store.h).
  SealedValueStore* sealed = nullptr;
  // VerifyWebhook's kept answers and LINE's test-call quota (check_store.h).
  CheckStore* checks = nullptr;
  // Webhook events and activity (event_store.h).
  EventStore* events = nullptr;
  // Background jobs that run once per period across processes (job_schedule.h).
  JobSchedule* jobs = nullptr;
  // Push messages from acceptance until LINE answers (push_outbox.h).
  PushOutbox* pushes = nullptr;
};

// The Store whose roles are all `store`.
template <typename AllRoles>
Store AllRolesOf(AllRoles& store) {
  return Store{&store, &store, &store, &store, &store, &store};
}

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_STORE_H_
