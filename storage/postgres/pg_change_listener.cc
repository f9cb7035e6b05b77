#include "storage/postgres/pg_change_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace linechannel::storage {
namespace {

// How often undeliverable events are checked again, and how often an idle connection is
// proved alive.
constexpr absl::Duration kDeliverableCheck = absl::Milliseconds(5);
constexpr absl::Duration kAliveCheck = absl::Seconds(1);

}  // namespace

PgChangeListener::PgChangeListener(PgConnection::Settings settings, Callbacks callbacks,
                                   absl::Duration reconnect_interval)
    : settings_(std::move(settings)),
      callbacks_(std::move(callbacks)),
      reconnect_interval_(reconnect_interval),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      thread_([this] { Run(); }) {}

PgChangeListener::~PgChangeListener() {
  stopping_ = true;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  thread_.join();
  close(wake_fd_);
}

bool PgChangeListener::Wait(int fd, absl::Duration timeout) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
  const int count = fd < 0 ? 1 : 2;
  (void)poll(fds, count, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  return !stopping_;
}

void PgChangeListener::Run() {
  while (!stopping_) {
    auto opened = PgConnection::Open(settings_);
    if (opened.ok()) {
      auto listening = (*opened)->Exec(
          absl::StrCat("LISTEN ", kBindingsChannel, "; LISTEN ", kEventsChannel), "listening");
      if (listening.ok()) {
        SetConnected(true);
        // Whatever changed before LISTEN took effect was not heard.
        callbacks_.changes_missed();
        Listen(**opened);
      }
    }
    SetConnected(false);
    if (stopping_) return;
    callbacks_.changes_missed();
    if (!Wait(-1, reconnect_interval_)) return;
  }
}

void PgChangeListener::SetConnected(bool connected) {
  if (connected_.exchange(connected) != connected && callbacks_.reachability_changed) {
    callbacks_.reachability_changed(connected);
  }
}

void PgChangeListener::Listen(PgConnection& db) {
  // The newest cursor heard of and not yet deliverable. Starts at the newest event stored:
  // notifications sent while this connection was not listening are lost, and readers waiting
  // for them must still be woken.
  int64_t undelivered = 0;
  auto newest = db.Exec("SELECT coalesce(max(pos), 0) FROM events", "reading the newest event");
  if (!newest.ok()) return;
  undelivered = newest->Int(0, 0);
  int64_t published = 0;  // The newest cursor told to readers.
  absl::Time last_alive = absl::Now();
  // Handles the notifications libpq has read. It reads them along with a statement's answer
  // too, so this runs after every statement as well: the socket has nothing more to say
  // about those, and waiting on it would delay them.
  const auto drain = [&] {
    while (PGnotify* note = PQnotifies(db.raw())) {
      int64_t value = 0;
      const bool numeric = absl::SimpleAtoi(note->extra, &value);
      if (std::string_view(note->relname) == kBindingsChannel) {
        if (numeric) {
          callbacks_.binding_changed(value);
        } else {
          callbacks_.changes_missed();
        }
      } else if (numeric && value > published) {
        undelivered = std::max(undelivered, value);
      }
      PQfreemem(note);
    }
  };
  while (!stopping_) {
    const absl::Duration timeout = undelivered > 0 ? kDeliverableCheck : kAliveCheck;
    if (!Wait(PQsocket(db.raw()), timeout)) return;
    if (PQconsumeInput(db.raw()) == 0 || db.broken()) return;
    drain();
    const absl::Time now = absl::Now();
    if (undelivered > 0) {
      // Deliverable once every transaction older than the events' own has ended.
      auto horizon = db.Exec(
          "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 20",
          "checking which events are deliverable");
      if (!horizon.ok()) return;
      drain();
      if (horizon->Int(0, 0) > undelivered) {
        callbacks_.events_deliverable(undelivered);
        published = undelivered;
        undelivered = 0;
      }
      last_alive = now;
    } else if (now - last_alive >= kAliveCheck) {
      // Proves the connection alive, and finds events whose notification was lost (their
      // writer died between commit and notify).
      auto newest =
          db.Exec("SELECT coalesce(max(pos), 0) FROM events", "checking the connection");
      if (!newest.ok()) return;
      if (newest->Int(0, 0) > published) undelivered = std::max(undelivered, newest->Int(0, 0));
      drain();
      last_alive = now;
    }
  }
}

absl::Status NotifyBindingChanged(PgConnection& db, int64_t row_id) {
  return db
      .Exec(absl::StrCat("SELECT pg_notify('", kBindingsChannel, "', $1)"),
            PgParams().Text(absl::StrCat(row_id)), "announcing a binding change")
      .status();
}

absl::Status NotifyEventsStored(PgConnection& db, int64_t cursor) {
  return db
      .Exec(absl::StrCat("SELECT pg_notify('", kEventsChannel, "', $1)"),
            PgParams().Text(absl::StrCat(cursor)), "announcing stored events")
      .status();
}

}  // namespace linechannel::storage
