#include "storage/postgres/pg_connection.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace linechannel::storage {
namespace {

// The SQLSTATE rides along with the status, so callers can tell a unique violation from
// other refusals without parsing messages.
constexpr char kSqlStatePayload[] = "type.linechannel/postgres.sqlstate";

std::string SqlStateOf(const absl::Status& status) {
  auto state = status.GetPayload(kSqlStatePayload);
  return state ? std::string(*state) : std::string();
}

absl::StatusCode CodeForSqlState(absl::string_view state) {
  if (state == "23505") return absl::StatusCode::kAlreadyExists;
  if (state == "XX001" || state == "XX002") return absl::StatusCode::kDataLoss;
  // Conditions that pass or that an operator fixes, so the call may be retried: connection
  // trouble (08), insufficient resources (53), an operator or crash shutting the server
  // down (57P), lock and statement timeouts, deadlocks and serialization failures (40), a
  // read-only standby (25006), I/O errors (58).
  if (absl::StartsWith(state, "08") || absl::StartsWith(state, "53") ||
      absl::StartsWith(state, "57") || absl::StartsWith(state, "40") ||
      absl::StartsWith(state, "58") || state == "55P03" || state == "25006") {
    return absl::StatusCode::kUnavailable;
  }
  // Everything else (syntax, undefined objects, data exceptions, other constraints) means
  // our own SQL or data is wrong: a bug, not a condition to retry.
  return absl::StatusCode::kInternal;
}

}  // namespace

PgParams& PgParams::Text(absl::string_view value) {
  values_.emplace_back(value);
  nulls_.push_back(false);
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::Int(int64_t value) { return Text(absl::StrCat(value)); }

PgParams& PgParams::Bool(bool value) { return Text(value ? "t" : "f"); }

PgParams& PgParams::Bytes(absl::string_view value) {
  values_.emplace_back(value);
  nulls_.push_back(false);
  formats_.push_back(1);
  return *this;
}

PgParams& PgParams::Null() {
  values_.emplace_back();
  nulls_.push_back(true);
  formats_.push_back(0);
  return *this;
}

PgParams& PgParams::TextOrNull(absl::string_view value) {
  return value.empty() ? Null() : Text(value);
}

PgParams& PgParams::IntOrNull(const std::optional<int64_t>& value) {
  return value ? Int(*value) : Null();
}

std::vector<const char*> PgParams::Pointers() const {
  std::vector<const char*> pointers;
  for (size_t i = 0; i < values_.size(); ++i) {
    pointers.push_back(nulls_[i] ? nullptr : values_[i].data());
  }
  return pointers;
}

std::vector<int> PgParams::Lengths() const {
  std::vector<int> lengths;
  for (const std::string& value : values_) lengths.push_back(static_cast<int>(value.size()));
  return lengths;
}

int64_t PgResult::affected() const {
  int64_t rows = 0;
  if (!absl::SimpleAtoi(PQcmdTuples(result_.get()), &rows)) return 0;
  return rows;
}

std::string PgResult::Text(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<size_t>(PQgetlength(result_.get(), row, column)));
}

int64_t PgResult::Int(int row, int column) const {
  int64_t value = 0;
  if (!absl::SimpleAtoi(PQgetvalue(result_.get(), row, column), &value)) return 0;
  return value;
}

bool PgResult::Bool(int row, int column) const {
  return PQgetvalue(result_.get(), row, column)[0] == 't';
}

std::string PgResult::Bytes(int row, int column) const {
  size_t length = 0;
  unsigned char* bytes = PQunescapeBytea(
      reinterpret_cast<const unsigned char*>(PQgetvalue(result_.get(), row, column)), &length);
  if (bytes == nullptr) return std::string();
  std::string out(reinterpret_cast<const char*>(bytes), length);
  PQfreemem(bytes);
  return out;
}

std::optional<int64_t> PgResult::OptionalInt(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return Int(row, column);
}

std::optional<absl::Time> PgResult::OptionalMicros(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return Micros(row, column);
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Open(const Settings& settings) {
  // expand_dbname: `url` may be a URI or key/value pairs. The connect timeout keeps a dead
  // server from holding a caller for the TCP timeout.
  const std::string timeout =
      absl::StrCat(std::max<int64_t>(2, absl::ToInt64Seconds(settings.lock_timeout)));
  // A malformed URL is refused before libpq quotes pieces of it (perhaps of a password).
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(settings.url.c_str(), &parse_error);
  if (parse_error != nullptr) PQfreemem(parse_error);
  if (parsed == nullptr) {
    return absl::InvalidArgumentError(
        "storage: the database URL is not a libpq connection URI (postgresql://...) or "
        "key=value string");
  }
  PQconninfoFree(parsed);
  // On TCP, keepalives and a user timeout let a connection whose server silently vanished
  // (a failover, a partition) fail within seconds instead of the kernel's minutes.
  const char* keys[] = {"dbname",         "connect_timeout",  "application_name",
                        "keepalives",     "keepalives_idle",  "keepalives_interval",
                        "keepalives_count", "tcp_user_timeout", nullptr};
  const char* values[] = {settings.url.c_str(), timeout.c_str(), "channeld", "1", "5", "2", "3",
                          "15000", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return absl::UnavailableError("storage: connecting to PostgreSQL: no memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string reason(absl::StripTrailingAsciiWhitespace(PQerrorMessage(conn)));
    PQfinish(conn);
    return absl::UnavailableError(absl::StrCat("storage: connecting to PostgreSQL: ", reason));
  }
  // The server's notices and its goodbye on shutdown would go to stderr; the statuses say
  // what matters.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  std::unique_ptr<PgConnection> connection(new PgConnection(conn));
  // Every acknowledged write must be on disk before its commit returns, whatever the server's
  // default; a lock held by another transaction is waited for only so long.
  auto set = connection->Exec(
      absl::StrCat("SET synchronous_commit = on; SET lock_timeout = ",
                   absl::ToInt64Milliseconds(settings.lock_timeout),
                   "; SET idle_in_transaction_session_timeout = 60000; "
                   // No statement of ours runs for long: one that does is stuck.
                   "SET statement_timeout = 30000; SET client_encoding = 'UTF8'"),
      "configuring the connection");
  if (!set.ok()) return set.status();
  return connection;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::in_transaction() const {
  const PGTransactionStatusType status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

absl::StatusOr<PgResult> PgConnection::Exec(absl::string_view sql, const PgParams& params,
                                            absl::string_view what) {
  const std::string statement(sql);
  PGresult* result = nullptr;
  if (params.size() == 0) {
    // Simple protocol: allows several statements in one string (session settings).
    result = PQexec(conn_, statement.c_str());
  } else {
    const std::vector<const char*> values = params.Pointers();
    const std::vector<int> lengths = params.Lengths();
    result = PQexecParams(conn_, statement.c_str(), params.size(), /*paramTypes=*/nullptr,
                          values.data(), lengths.data(), params.formats_.data(),
                          /*resultFormat=*/0);
  }
  return Answer(result, what);
}

absl::StatusOr<PgResult> PgConnection::Answer(PGresult* result, absl::string_view what) {
  const ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return PgResult(result);
  absl::Status error = StatusFromPg(conn_, result, what);
  PQclear(result);
  return error;
}

absl::StatusOr<PgResult> PgConnection::ExecPrepared(const std::string& name, absl::string_view sql,
                                                    const PgParams& params,
                                                    absl::string_view what) {
  if (prepared_.count(name) == 0) {
    const std::string statement(sql);
    auto prepared = Answer(PQprepare(conn_, name.c_str(), statement.c_str(), params.size(),
                                     /*paramTypes=*/nullptr),
                           what);
    if (!prepared.ok()) return prepared.status();
    prepared_.insert(name);
  }
  const std::vector<const char*> values = params.Pointers();
  const std::vector<int> lengths = params.Lengths();
  return Answer(PQexecPrepared(conn_, name.c_str(), params.size(), values.data(), lengths.data(),
                               params.formats_.data(), /*resultFormat=*/0),
                what);
}

absl::Status StatusFromPg(PGconn* conn, const PGresult* result, absl::string_view what) {
  const char* state = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  // The primary message only: the detail can quote the row's values (a webhook key).
  const char* message =
      result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  std::string reason(absl::StripTrailingAsciiWhitespace(
      message != nullptr && message[0] != '\0' ? message : PQerrorMessage(conn)));
  // No SQLSTATE: libpq itself failed (the connection broke, or out of memory).
  const absl::StatusCode code = state == nullptr || PQstatus(conn) != CONNECTION_OK
                                    ? absl::StatusCode::kUnavailable
                                    : CodeForSqlState(state);
  absl::Status status(code, absl::StrCat("storage: ", what, ": ", reason));
  if (state != nullptr) status.SetPayload(kSqlStatePayload, absl::Cord(state));
  return status;
}

bool IsUniqueViolation(const absl::Status& status) { return SqlStateOf(status) == "23505"; }

bool IsRetryableConflict(const absl::Status& status) {
  const std::string state = SqlStateOf(status);
  return state == "40001" || state == "40P01";
}

}  // namespace linechannel::storage
