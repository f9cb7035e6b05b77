#ifndef LINECHANNEL_STORAGE_POSTGRES_PG_CONNECTION_H_
#define LINECHANNEL_STORAGE_POSTGRES_PG_CONNECTION_H_

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace linechannel::storage {

// The parameters of one statement ($1, $2, ... in the order added). Values travel as text,
// except Bytes, which travel in binary so that sealed values need no escaping.
class PgParams {
 public:
  PgParams& Text(absl::string_view value);
  PgParams& Int(int64_t value);
  PgParams& Bool(bool value);
  PgParams& Bytes(absl::string_view value);
  PgParams& Null();
  // Text, or NULL when empty.
  PgParams& TextOrNull(absl::string_view value);
  PgParams& IntOrNull(const std::optional<int64_t>& value);

  int size() const { return static_cast<int>(values_.size()); }

 private:
  friend class PgConnection;
  // As libpq takes them: a pointer per value (null for NULL) and each value's length.
  std::vector<const char*> Pointers() const;
  std::vector<int> Lengths() const;

  std::vector<std::string> values_;
  std::vector<bool> nulls_;
  std::vector<int> formats_;
};

// A statement's answer, in text format. Column accessors take a row and column index; a
// column read with the wrong accessor is a bug in our SQL and reads as zero or empty.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}

  int rows() const { return PQntuples(result_.get()); }
  // Rows changed by an INSERT, UPDATE or DELETE.
  int64_t affected() const;

  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string Text(int row, int column) const;
  int64_t Int(int row, int column) const;
  bool Bool(int row, int column) const;
  // A bytea column.
  std::string Bytes(int row, int column) const;
  std::optional<int64_t> OptionalInt(int row, int column) const;
  std::optional<absl::Time> OptionalMicros(int row, int column) const;
  absl::Time Micros(int row, int column) const { return absl::FromUnixMicros(Int(row, column)); }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

// One libpq connection, used by one thread at a time. A connection whose server went away is
// broken() from then on: the pool drops it and opens a new one.
class PgConnection {
 public:
  struct Settings {
    // A libpq connection URI or key/value string.
    std::string url;
    // The longest wait for a row lock or for a connection to open.
    absl::Duration lock_timeout = absl::Seconds(5);
  };

  // UNAVAILABLE (with libpq's reason, never the password) if the server cannot be reached or
  // refuses the login.
  static absl::StatusOr<std::unique_ptr<PgConnection>> Open(const Settings& settings);
  ~PgConnection();

  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement. `what` names the operation in errors ("storage: <what>: ..."). Errors
  // map PostgreSQL's SQLSTATE onto the store's status conventions (binding_store.h).
  absl::StatusOr<PgResult> Exec(absl::string_view sql, const PgParams& params,
                                absl::string_view what);
  absl::StatusOr<PgResult> Exec(absl::string_view sql, absl::string_view what) {
    return Exec(sql, PgParams(), what);
  }

  // As Exec, but the statement is parsed and planned once per connection, under `name`, and
  // reused after that (the webhook path's one statement).
  absl::StatusOr<PgResult> ExecPrepared(const std::string& name, absl::string_view sql,
                                        const PgParams& params, absl::string_view what);

  // The server is gone or the connection is otherwise unusable.
  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  // Inside a transaction (or a failed one that awaits ROLLBACK).
  bool in_transaction() const;
  PGconn* raw() { return conn_; }

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  // Runs `result` through the status conventions.
  absl::StatusOr<PgResult> Answer(PGresult* result, absl::string_view what);

  PGconn* conn_;
  std::set<std::string> prepared_;
};

// The status for a failed libpq call: `result` may be null (the connection failed).
absl::Status StatusFromPg(PGconn* conn, const PGresult* result, absl::string_view what);

// PostgreSQL's SQLSTATE for a unique violation, deadlock or serialization failure.
bool IsUniqueViolation(const absl::Status& status);
bool IsRetryableConflict(const absl::Status& status);

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_POSTGRES_PG_CONNECTION_H_
