#include "tests/support/postgres_cluster.h"

#include <libpq-fe.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linechannel::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct PgConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using Connection = std::unique_ptr<PGconn, PgConnCloser>;

// The first column of the first row of `sql`'s answer, or the error.
absl::StatusOr<std::string> QueryOne(const std::string& url, const std::string& sql) {
  Connection conn(PQconnectdb(url.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(PQerrorMessage(conn.get()));
  }
  PGresult* result = PQexec(conn.get(), sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  std::string answer;
  if (status == PGRES_TUPLES_OK && PQntuples(result) > 0) answer = PQgetvalue(result, 0, 0);
  PQclear(result);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return absl::InternalError(PQerrorMessage(conn.get()));
  }
  return answer;
}

TEST(PostgresClusterTest, SharedGivesARunningCluster) {
  absl::StatusOr<PostgresCluster*> cluster = PostgresCluster::Shared();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  EXPECT_TRUE((*cluster)->running());
  EXPECT_EQ(PQping((*cluster)->admin_url().c_str()), PQPING_OK);
  // Under ctest it is the fixture's cluster.
  if (const char* host = getenv("LINECHANNEL_TEST_POSTGRES_HOST"); host != nullptr) {
    EXPECT_EQ((*cluster)->socket_dir(), host);
  }
  absl::StatusOr<PostgresCluster*> again = PostgresCluster::Shared();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *cluster);
}

TEST(PostgresClusterTest, CreateDatabaseGivesDistinctWorkingDatabases) {
  absl::StatusOr<PostgresCluster*> cluster = PostgresCluster::Shared();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<std::string> first = (*cluster)->CreateDatabase();
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::string> second = (*cluster)->CreateDatabase();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(*first, *second);
  EXPECT_THAT(*first, StartsWith("postgresql://channeld@/t_"));
  // The socket directory is a query parameter, percent-encoded.
  EXPECT_THAT(*first, HasSubstr("?host=%2F"));

  for (const std::string& url : {*first, *second}) {
    absl::StatusOr<std::string> one = QueryOne(url, "SELECT 1");
    ASSERT_TRUE(one.ok()) << url << ": " << one.status();
    EXPECT_EQ(*one, "1");
  }
  absl::StatusOr<std::string> first_name = QueryOne(*first, "SELECT current_database()");
  absl::StatusOr<std::string> second_name = QueryOne(*second, "SELECT current_database()");
  ASSERT_TRUE(first_name.ok()) << first_name.status();
  ASSERT_TRUE(second_name.ok()) << second_name.status();
  EXPECT_NE(*first_name, *second_name);
}

TEST(PostgresClusterTest, StopAndStartAgainKeepTheData) {
  absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<std::string> url = (*cluster)->CreateDatabase();
  ASSERT_TRUE(url.ok()) << url.status();
  ASSERT_TRUE(QueryOne(*url, "CREATE TABLE kept (x integer); INSERT INTO kept VALUES (42)").ok());

  ASSERT_TRUE((*cluster)->Stop().ok());
  EXPECT_FALSE((*cluster)->running());
  EXPECT_FALSE(QueryOne(*url, "SELECT 1").ok());
  EXPECT_TRUE((*cluster)->Stop().ok()) << "stopping a stopped cluster is fine";

  absl::Status started = (*cluster)->StartAgain();
  ASSERT_TRUE(started.ok()) << started;
  EXPECT_TRUE((*cluster)->running());
  absl::StatusOr<std::string> kept = QueryOne(*url, "SELECT x FROM kept");
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(*kept, "42");
}

TEST(PostgresClusterTest, AFailedStartSaysWhyFromTheServerLog) {
  absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->Stop().ok());
  {
    std::ofstream conf((*cluster)->socket_dir() + "/data/postgresql.conf", std::ios::app);
    conf << "linechannel_no_such_setting = 1\n";
  }
  absl::Status started = (*cluster)->StartAgain();
  EXPECT_FALSE(started.ok());
  EXPECT_THAT(started.message(), HasSubstr("linechannel_no_such_setting"));
  EXPECT_FALSE((*cluster)->running());
}

TEST(PostgresClusterTest, DestructorStopsTheClusterAndRemovesItsDirectory) {
  absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const std::string dir = (*cluster)->socket_dir();
  const std::string admin_url = (*cluster)->admin_url();
  ASSERT_TRUE(std::filesystem::is_directory(dir));
  ASSERT_EQ(PQping(admin_url.c_str()), PQPING_OK);

  cluster->reset();
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_NE(PQping(admin_url.c_str()), PQPING_OK);
}

TEST(PostgresClusterTest, AttachRefusesWhatIsNotAClusterDirectory) {
  EXPECT_TRUE(absl::IsNotFound(PostgresCluster::Attach("/nonexistent/linechannel-pg").status()));
  EXPECT_FALSE(PostgresCluster::Attach("/etc/passwd").ok());
}

TEST(PostgresClusterTest, StartInRefusesASocketPathTooLong) {
  const std::string dir = "/tmp/" + std::string(120, 'x');
  EXPECT_TRUE(absl::IsInvalidArgument(PostgresCluster::StartIn(dir).status()));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace linechannel::testing
