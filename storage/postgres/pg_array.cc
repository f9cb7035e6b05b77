#include "storage/postgres/pg_array.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace linechannel::storage {

void PgArray::Separate() {
  if (literal_.size() > 1) literal_.push_back(',');
}

PgArray& PgArray::Text(absl::string_view value) {
  Separate();
  // Quoted, with backslash and double quote escaped: the only characters special inside a
  // quoted element.
  literal_.reserve(literal_.size() + value.size() + 2);
  literal_.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') literal_.push_back('\\');
    literal_.push_back(c);
  }
  literal_.push_back('"');
  return *this;
}

PgArray& PgArray::Int(int64_t value) {
  Separate();
  absl::StrAppend(&literal_, value);
  return *this;
}

PgArray& PgArray::Bool(bool value) {
  Separate();
  literal_.push_back(value ? 't' : 'f');
  return *this;
}

PgArray& PgArray::Null() {
  Separate();
  literal_.append("NULL");
  return *this;
}

std::string PgArray::Take() {
  literal_.push_back('}');
  std::string out = std::move(literal_);
  literal_ = "{";
  return out;
}

}  // namespace linechannel::storage
