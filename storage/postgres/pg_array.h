#ifndef LINECHANNEL_STORAGE_POSTGRES_PG_ARRAY_H_
#define LINECHANNEL_STORAGE_POSTGRES_PG_ARRAY_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace linechannel::storage {

// Builds a PostgreSQL array literal ({"a","b",NULL}) to pass as one text parameter, so that
// many rows travel in one statement (INSERT ... SELECT FROM unnest($1::text[], ...)).
class PgArray {
 public:
  PgArray& Text(absl::string_view value);
  PgArray& Int(int64_t value);
  PgArray& Bool(bool value);
  PgArray& Null();
  PgArray& TextOrNull(absl::string_view value) { return value.empty() ? Null() : Text(value); }

  // The literal; the builder is empty afterwards.
  std::string Take();

 private:
  void Separate();
  std::string literal_ = "{";
};

}  // namespace linechannel::storage

#endif  // LINECHANNEL_STORAGE_POSTGRES_PG_ARRAY_H_
