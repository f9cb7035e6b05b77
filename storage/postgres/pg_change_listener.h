#ifndef LINECHANNEL_STORAGE_POSTGRES_PG_CHANGE_LISTENER_H_
#define LINECHANNEL_STORAGE_POSTGRES_PG_CHANGE_LISTENER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "storage/postgres/pg_connection.h"

namespace linechannel::storage {

// The notification channels every replica's writes announce themselves on.
inline constexpr char kBindingsChannel[] = "channeld_bindings";
inline constexpr char kEventsChannel[] = "channeld_events";

// What writers send on them, at their transaction's commit (or at once outside one): binding
// `row_id` changed; events up to `cursor` are stored.
absl::Status NotifyBindingChanged(PgConnection& db, int64_t row_id);
absl::Status NotifyEventsStored(PgConnection& db, int64_t cursor);

// Hears what every replica (this one included) changes, on one connection of its own that
// LISTENs to the channels above:
//   - a binding changed (payload: its row id) -> `binding_changed`;
//   - the connection was lost or (re)made, so notifications may have been missed ->
//     `changes_missed` (drop every cached binding), once when it happens and then after every
//     failed reconnect attempt, so a cache cannot serve a stale binding for longer than
//     `reconnect_interval` however long the outage;
//   - events were committed (payload: the newest cursor, or found by looking every second,
//     in case a writer died before its notification) -> `events_deliverable`, but only once
//     readers can deliver them, that is once no older transaction is still running (the
//     event cursor's rule, pg_schema.cc); until then the listener checks every few
//     milliseconds.
// Callbacks run on the listener's thread and must be quick. Thread-safe.
class PgChangeListener {
 public:
  struct Callbacks {
    std::function<void(int64_t row_id)> binding_changed;
    std::function<void()> changes_missed;
    std::function<void(int64_t cursor)> events_deliverable;
    // The listener's connection started or stopped working (PostgreSQL reachable or not).
    std::function<void(bool reachable)> reachability_changed;
  };

  PgChangeListener(PgConnection::Settings settings, Callbacks callbacks,
                   absl::Duration reconnect_interval = absl::Seconds(1));
  ~PgChangeListener();

  PgChangeListener(const PgChangeListener&) = delete;
  PgChangeListener& operator=(const PgChangeListener&) = delete;

  // Whether the listener's connection to PostgreSQL works (checked at least every second).
  bool connected() const { return connected_.load(); }

 private:
  void Run();
  void SetConnected(bool connected);
  // Listens on `db` until it breaks or the listener stops.
  void Listen(PgConnection& db);
  // Waits until `fd` is readable, the timeout passes, or Stop; false on Stop.
  bool Wait(int fd, absl::Duration timeout);

  const PgConnection::Settings settings_;
  const Callbacks callbacks_;
  const absl::Duration reconnect_interval_;
  // Written to wake the thread for shutdown.
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  // Assumed at first: the store was opened on a working connection a moment ago.
  std::atomic<bool> connected_{true};
  std::thread thread_;
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_POSTGRES_PG_CHANGE_LISTENER_H_
