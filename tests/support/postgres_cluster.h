#ifndef LINECHANNEL_TESTS_SUPPORT_POSTGRES_CLUSTER_H_
#define LINECHANNEL_TESTS_SUPPORT_POSTGRES_CLUSTER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace linechannel::testing {

// A private PostgreSQL 15 cluster for tests: initdb into a fresh directory, listening only on a
// Unix socket in that directory (listen_addresses=''), trust auth for the role "channeld".
// Never a system service.
//
// Layout of a cluster directory DIR: DIR is the socket directory (DIR/.s.PGSQL.5432), DIR/data
// the data directory, DIR/postgres.log the server's log. PostgreSQL refuses to run as root, so
// when the euid is 0 every PostgreSQL program runs as nobody:nogroup (through setpriv) and DIR
// belongs to them; nobody must be able to reach DIR, which is why clusters of root live in /tmp.
//
// The binaries come from $LINECHANNEL_PG_BINDIR if set, else /usr/lib/postgresql/15/bin (not
// `pg_config --bindir`: pg_config comes with libpq-dev and may name a client-only install).
//
// Thread-safe.
class PostgresCluster {
 public:
  // Starts a new cluster in a fresh temp directory, owned by the returned object: the destructor
  // stops it (immediate shutdown) and removes the directory. The error of a failed start includes the
  // tail of the relevant log.
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> Start();

  // Starts a new cluster in `dir`, which must not exist yet and whose path must fit a Unix
  // socket's 107 bytes with "/.s.PGSQL.5432" added (INVALID_ARGUMENT otherwise). The cluster
  // outlives the object (for the ctest fixture: one process starts it, later ones Attach()).
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> StartIn(const std::string& dir);

  // The cluster in `dir`, started by StartIn() perhaps in another process, running or not. The
  // cluster outlives the object. NOT_FOUND if `dir` is not a directory; PERMISSION_DENIED if it
  // is a symlink or belongs to someone else (it may be a stale name in /tmp).
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> Attach(const std::string& dir);

  // The cluster shared by this test process: the one ctest's fixture started (its socket dir
  // given in env LINECHANNEL_TEST_POSTGRES_HOST) or, when that is unset (binary run by hand), a
  // private one started on first use and stopped at process exit. A failure is remembered: every
  // later call returns the same error. Tests must not Stop() it; Start() their own cluster for
  // that.
  static absl::StatusOr<PostgresCluster*> Shared();

  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // Creates a fresh empty database with a name unique in the cluster ("t_<pid>_<counter>") and
  // returns its libpq connection URI. UNAVAILABLE if the cluster cannot be reached; INTERNAL if
  // PostgreSQL refuses the CREATE DATABASE. The database is dropped only with the cluster.
  absl::StatusOr<std::string> CreateDatabase();

  // Fast shutdown (pg_ctl stop -m fast); the data stays. OK if already stopped. Fault tests stop
  // PostgreSQL mid-ingest and bring it back with StartAgain().
  absl::Status Stop();
  // Starts the stopped cluster again with the same data. OK if already running.
  absl::Status StartAgain();
  // Stops the cluster at once (immediate shutdown: its data is thrown away) and removes its
  // directory; the object must not be used afterwards except to destroy it.
  absl::Status Destroy();

  // Whether a postmaster runs for this cluster (its postmaster.pid names a live process).
  bool running() const;
  std::string socket_dir() const { return dir_; }
  // URI of the maintenance database "postgres".
  std::string admin_url() const { return DatabaseUrl("postgres"); }

 private:
  PostgresCluster(std::string dir, bool owned);
  // initdb, the test settings, first start.
  absl::Status Init();
  absl::Status StartLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // pg_ctl stop -m `mode`; OK if not running.
  absl::Status StopLocked(absl::string_view mode) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string DatabaseUrl(const std::string& name) const;
  std::string data_dir() const { return dir_ + "/data"; }
  std::string log_path() const { return dir_ + "/postgres.log"; }

  const std::string dir_;
  // Owned clusters are stopped and removed by the destructor, but only in the process that
  // created the object: a forked child that exits must not take the parent's cluster with it.
  const bool owned_;
  const pid_t owner_pid_;
  absl::Mutex mu_;  // Serialises starts and stops.
  bool destroyed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_SUPPORT_POSTGRES_CLUSTER_H_
