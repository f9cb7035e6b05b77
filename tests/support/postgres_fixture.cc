// postgres_fixture start DIR | stop DIR
//
// The ctest fixture "postgres" (tests/CMakeLists.txt): `start` starts a PostgresCluster in DIR
// and leaves it running for the whole suite; `stop` stops it and removes DIR. Tests find it
// through LINECHANNEL_TEST_POSTGRES_HOST=DIR (PostgresCluster::Shared()).

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "tests/support/postgres_cluster.h"

namespace {

using ::linechannel::testing::PostgresCluster;

// Stops and removes whatever cluster is in `dir`; OK if there is none.
absl::Status RemoveCluster(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::Attach(dir);
  if (absl::IsNotFound(cluster.status())) return absl::OkStatus();
  if (!cluster.ok()) return cluster.status();
  return (*cluster)->Destroy();
}

absl::Status Run(const std::string& command, const std::string& dir) {
  if (command == "start") {
    // A run that was killed before its cleanup left the last cluster behind.
    if (absl::Status status = RemoveCluster(dir); !status.ok()) return status;
    absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::StartIn(dir);
    if (!cluster.ok()) return cluster.status();
    std::printf("postgres_fixture: PostgreSQL running, socket dir %s\n", dir.c_str());
    return absl::OkStatus();
  }
  if (command == "stop") return RemoveCluster(dir);
  return absl::InvalidArgumentError("unknown command " + command);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s start|stop DIR\n", argv[0]);
    return 2;
  }
  const absl::Status status = Run(argv[1], argv[2]);
  if (!status.ok()) {
    std::fprintf(stderr, "postgres_fixture %s %s: %s\n", argv[1], argv[2],
                 status.ToString().c_str());
    return 1;
  }
  return 0;
}
