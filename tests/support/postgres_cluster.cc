#include "tests/support/postgres_cluster.h"

#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

extern char** environ;

namespace linechannel::testing {
namespace {

constexpr char kRole[] = "channeld";
constexpr int kPort = 5432;
constexpr char kSocketName[] = "/.s.PGSQL.5432";
constexpr char kDefaultBinDir[] = "/usr/lib/postgresql/15/bin";
// The user PostgreSQL runs as when we are root, and the one setpriv switches to.
constexpr char kClusterUser[] = "nobody";
constexpr char kClusterGroup[] = "nogroup";

bool IsRoot() { return geteuid() == 0; }

std::string BinDir() {
  const char* dir = getenv("LINECHANNEL_PG_BINDIR");
  return dir != nullptr && *dir != '\0' ? dir : kDefaultBinDir;
}

struct ClusterOwner {
  uid_t uid;
  gid_t gid;
};

absl::StatusOr<ClusterOwner> LookUpClusterOwner() {
  std::vector<char> buf(16384);
  passwd pw;
  passwd* pw_result = nullptr;
  if (getpwnam_r(kClusterUser, &pw, buf.data(), buf.size(), &pw_result) != 0 ||
      pw_result == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("running as root, but there is no user \"", kClusterUser,
                     "\" to run PostgreSQL as"));
  }
  group gr;
  group* gr_result = nullptr;
  if (getgrnam_r(kClusterGroup, &gr, buf.data(), buf.size(), &gr_result) != 0 ||
      gr_result == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("running as root, but there is no group \"", kClusterGroup,
                     "\" to run PostgreSQL as"));
  }
  return ClusterOwner{pw.pw_uid, gr.gr_gid};
}

// The last `max_lines` lines of a file, for error messages.
std::string Tail(const std::string& path, size_t max_lines = 30) {
  std::ifstream in(path);
  if (!in) return absl::StrCat("(cannot read ", path, ")");
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(std::move(line));
    if (lines.size() > max_lines) lines.pop_front();
  }
  return absl::StrJoin(lines, "\n");
}

// Runs a PostgreSQL program (argv[0] an absolute path) to completion in `cwd`, its stdout and
// stderr written to `output_path`. As root it runs as the cluster's user. `cwd` matters: the
// programs look up their own directory and fail if they cannot read the current one, which as
// nobody may be the case for the test's.
absl::Status RunTool(std::vector<std::string> args, const std::string& cwd,
                     const std::string& output_path) {
  const std::string tool = std::filesystem::path(args[0]).filename().string();
  if (IsRoot()) {
    args.insert(args.begin(), {"setpriv", absl::StrCat("--reuid=", kClusterUser),
                               absl::StrCat("--regid=", kClusterGroup), "--clear-groups"});
  }
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  // posix_spawnp: setpriv is found on PATH; the PostgreSQL programs are absolute paths.
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("cannot run ", args[0], ": ", std::strerror(rc)));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return absl::InternalError(absl::StrCat("waitpid ", tool, ": ", std::strerror(errno)));
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  const std::string how = WIFEXITED(status)
                              ? absl::StrCat("exited with ", WEXITSTATUS(status))
                              : absl::StrCat("died of signal ", WTERMSIG(status));
  return absl::InternalError(absl::StrCat(absl::StrJoin(args, " "), " ", how, "; its output:\n",
                                          Tail(output_path)));
}

// libpq URIs take the socket directory as a query parameter; '/' and anything else outside the
// unreserved set must be percent-encoded there.
std::string PercentEncode(const std::string& text) {
  constexpr char kHexDigits[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHexDigits[c >> 4]);
      out.push_back(kHexDigits[c & 0xF]);
    }
  }
  return out;
}

absl::Status CheckSocketPathFits(const std::string& dir) {
  constexpr size_t kMaxSocketPath = sizeof(sockaddr_un::sun_path) - 1;
  if (dir.size() + std::strlen(kSocketName) > kMaxSocketPath) {
    return absl::InvalidArgumentError(
        absl::StrCat("cluster directory ", dir, " is too long for a Unix socket path (",
                     kMaxSocketPath, " bytes with \"", kSocketName, "\")"));
  }
  return absl::OkStatus();
}

// As root, hands a fresh cluster directory to the user PostgreSQL will run as.
absl::Status GiveToClusterUser(const std::string& dir) {
  if (!IsRoot()) return absl::OkStatus();
  absl::StatusOr<ClusterOwner> owner = LookUpClusterOwner();
  if (!owner.ok()) return owner.status();
  if (chown(dir.c_str(), owner->uid, owner->gid) != 0) {
    return absl::InternalError(absl::StrCat("chown ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

struct PgConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct PgResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};

}  // namespace

PostgresCluster::PostgresCluster(std::string dir, bool owned)
    : dir_(std::move(dir)), owned_(owned), owner_pid_(getpid()) {}

PostgresCluster::~PostgresCluster() {
  if (!owned_ || getpid() != owner_pid_) return;
  if (absl::Status status = Destroy(); !status.ok()) {
    fprintf(stderr, "PostgresCluster in %s: %s\n", dir_.c_str(), status.ToString().c_str());
  }
}

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::Start() {
  // Root's clusters run as nobody, who can reach /tmp but not necessarily $TMPDIR.
  std::string base = "/tmp";
  if (!IsRoot()) {
    std::error_code error;
    const std::filesystem::path tmp = std::filesystem::temp_directory_path(error);
    if (!error) base = tmp.string();
  }
  std::string pattern = absl::StrCat(base, "/linechannel-pg-XXXXXX");
  if (!CheckSocketPathFits(pattern).ok()) pattern = "/tmp/linechannel-pg-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern, ": ", std::strerror(errno)));
  }
  // Owned from here on, so that a failed start still removes the directory.
  auto cluster = std::unique_ptr<PostgresCluster>(new PostgresCluster(pattern, /*owned=*/true));
  if (absl::Status status = GiveToClusterUser(pattern); !status.ok()) return status;
  if (absl::Status status = cluster->Init(); !status.ok()) return status;
  return cluster;
}

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::StartIn(
    const std::string& dir) {
  if (absl::Status status = CheckSocketPathFits(dir); !status.ok()) return status;
  if (mkdir(dir.c_str(), 0700) != 0) {
    const std::string message = absl::StrCat("mkdir ", dir, ": ", std::strerror(errno));
    return errno == EEXIST ? absl::AlreadyExistsError(message) : absl::InternalError(message);
  }
  if (absl::Status status = GiveToClusterUser(dir); !status.ok()) return status;
  auto cluster = std::unique_ptr<PostgresCluster>(new PostgresCluster(dir, /*owned=*/false));
  if (absl::Status status = cluster->Init(); !status.ok()) return status;
  return cluster;
}

absl::StatusOr<std::unique_ptr<PostgresCluster>> PostgresCluster::Attach(const std::string& dir) {
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("no cluster directory ", dir, ": ",
                                            std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::PermissionDeniedError(absl::StrCat(dir, " is not a directory"));
  }
  // The fixture's directory has a fixed name in /tmp: never take over (or later remove) one
  // that someone else made.
  bool ours = st.st_uid == geteuid();
  if (!ours && IsRoot()) {
    absl::StatusOr<ClusterOwner> owner = LookUpClusterOwner();
    ours = owner.ok() && st.st_uid == owner->uid;
  }
  if (!ours) {
    return absl::PermissionDeniedError(
        absl::StrCat(dir, " belongs to uid ", st.st_uid, ", not to this test's cluster user"));
  }
  return std::unique_ptr<PostgresCluster>(new PostgresCluster(dir, /*owned=*/false));
}

absl::StatusOr<PostgresCluster*> PostgresCluster::Shared() {
  // Function-local static: thread-safe initialisation, and a private cluster is stopped by its
  // destructor at process exit.
  static absl::StatusOr<std::unique_ptr<PostgresCluster>> shared =
      []() -> absl::StatusOr<std::unique_ptr<PostgresCluster>> {
    const char* host = getenv("LINECHANNEL_TEST_POSTGRES_HOST");
    if (host == nullptr || *host == '\0') return Start();
    constexpr char kHint[] =
        " (LINECHANNEL_TEST_POSTGRES_HOST): run the test through ctest, whose postgres fixture "
        "starts that cluster, or unset the variable to start a private one";
    absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = Attach(host);
    if (!cluster.ok()) {
      return absl::Status(cluster.status().code(),
                          absl::StrCat(cluster.status().message(), kHint));
    }
    if (PQping((*cluster)->admin_url().c_str()) != PQPING_OK) {
      return absl::UnavailableError(absl::StrCat("no PostgreSQL answers in ", host, kHint));
    }
    return cluster;
  }();
  if (!shared.ok()) return shared.status();
  return shared->get();
}

absl::Status PostgresCluster::Init() {
  const std::string bin_dir = BinDir();
  const std::string initdb = bin_dir + "/initdb";
  if (access(initdb.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no PostgreSQL server programs: ", initdb, " is not executable (install postgresql-15, "
        "or set LINECHANNEL_PG_BINDIR to the directory holding initdb, pg_ctl and postgres)"));
  }
  // --no-sync only skips initdb's own flush; the server keeps fsync on, since durability is what
  // some tests are about. Locale C: the same sort order everywhere, and always installed.
  absl::Status status = RunTool({initdb, "-D", data_dir(), "-U", kRole, "-A", "trust",
                                 "--no-sync", "-E", "UTF8", "--locale=C"},
                                dir_, dir_ + "/initdb.log");
  if (!status.ok()) return status;

  // Settings go into postgresql.conf rather than onto pg_ctl's -o, which pg_ctl hands to a
  // shell; they also hold for StartAgain(). The port is fixed so that a PGPORT in the
  // environment cannot move the socket's name away from what the URIs say.
  std::ofstream conf(data_dir() + "/postgresql.conf", std::ios::app);
  conf << "\n# Added by linechannel's PostgresCluster (tests/support/postgres_cluster.cc).\n"
       << "listen_addresses = ''\n"
       << "unix_socket_directories = '" << absl::StrReplaceAll(dir_, {{"'", "''"}}) << "'\n"
       << "port = " << kPort << "\n"
       // Up to 3 server replicas per test, each with several connections.
       << "max_connections = 300\n";
  conf.close();
  if (!conf) {
    return absl::InternalError(absl::StrCat("cannot append to ", data_dir(), "/postgresql.conf"));
  }
  absl::MutexLock lock(&mu_);
  return StartLocked();
}

absl::Status PostgresCluster::StartLocked() {
  absl::Status status =
      RunTool({BinDir() + "/pg_ctl", "-D", data_dir(), "-l", log_path(), "-w", "-t", "60", "-s",
               "start"},
              dir_, dir_ + "/pg_ctl.log");
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("PostgreSQL in ", dir_, " did not start: ",
                                            status.message(), "\nTail of ", log_path(), ":\n",
                                            Tail(log_path())));
  }
  return absl::OkStatus();
}

absl::Status PostgresCluster::StopLocked(absl::string_view mode) {
  if (!running()) return absl::OkStatus();
  absl::Status status =
      RunTool({BinDir() + "/pg_ctl", "-D", data_dir(), "-m", std::string(mode), "-w", "-t", "60",
               "-s", "stop"},
              dir_, dir_ + "/pg_ctl.log");
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("PostgreSQL in ", dir_, " did not stop: ",
                                            status.message(), "\nTail of ", log_path(), ":\n",
                                            Tail(log_path())));
  }
  return absl::OkStatus();
}

absl::Status PostgresCluster::Stop() {
  absl::MutexLock lock(&mu_);
  return StopLocked("fast");
}

absl::Status PostgresCluster::StartAgain() {
  absl::MutexLock lock(&mu_);
  if (destroyed_) return absl::FailedPreconditionError("cluster was destroyed");
  if (running()) return absl::OkStatus();
  return StartLocked();
}

absl::Status PostgresCluster::Destroy() {
  absl::MutexLock lock(&mu_);
  if (destroyed_) return absl::OkStatus();
  // The data is removed next, so the shutdown checkpoint a fast stop writes is wasted work; on
  // a loaded machine it took over a minute and ran the suite's cleanup past its time limit.
  if (absl::Status status = StopLocked("immediate"); !status.ok()) return status;
  destroyed_ = true;
  std::error_code error;
  std::filesystem::remove_all(dir_, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot remove ", dir_, ": ", error.message()));
  }
  return absl::OkStatus();
}

bool PostgresCluster::running() const {
  // The first line of postmaster.pid is the postmaster's pid; the file goes away on a clean
  // stop and is left behind by a crash, hence the check that the process still exists.
  std::ifstream pid_file(data_dir() + "/postmaster.pid");
  std::string first_line;
  if (!std::getline(pid_file, first_line)) return false;
  int pid = 0;
  if (!absl::SimpleAtoi(first_line, &pid) || pid <= 0) return false;
  return kill(pid, 0) == 0 || errno == EPERM;
}

absl::StatusOr<std::string> PostgresCluster::CreateDatabase() {
  // Names are unique within this process; the pid tells processes sharing the cluster apart,
  // and a name left by an earlier process with the same pid is skipped below.
  static std::atomic<int> counter{0};
  std::unique_ptr<PGconn, PgConnCloser> conn(PQconnectdb(admin_url().c_str()));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(
        absl::StrCat("cannot connect to PostgreSQL at ", admin_url(), ": ",
                     conn == nullptr ? "out of memory" : PQerrorMessage(conn.get())));
  }
  constexpr int kMaxAttempts = 50;
  for (int attempt = 1;; ++attempt) {
    const std::string name = absl::StrCat("t_", getpid(), "_", counter++);
    std::unique_ptr<PGresult, PgResultClearer> result(
        PQexec(conn.get(), absl::StrCat("CREATE DATABASE \"", name, "\"").c_str()));
    if (PQresultStatus(result.get()) == PGRES_COMMAND_OK) return DatabaseUrl(name);
    const char* sqlstate = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    const std::string code = sqlstate == nullptr ? "" : sqlstate;
    // 42P04 duplicate_database: the name is taken. 55006 object_in_use: someone else is copying
    // template1 right now; PostgreSQL allows one copy at a time.
    if (attempt < kMaxAttempts && (code == "42P04" || code == "55006")) {
      if (code == "55006") absl::SleepFor(absl::Milliseconds(50));
      continue;
    }
    return absl::InternalError(absl::StrCat("CREATE DATABASE ", name, " in the cluster at ",
                                            dir_, " failed: ", PQerrorMessage(conn.get())));
  }
}

std::string PostgresCluster::DatabaseUrl(const std::string& name) const {
  return absl::StrCat("postgresql://", kRole, "@/", name, "?host=", PercentEncode(dir_),
                      "&port=", kPort);
}

}  // namespace linechannel::testing
