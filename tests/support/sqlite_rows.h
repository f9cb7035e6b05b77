#ifndef LINECHANNEL_TESTS_SUPPORT_SQLITE_ROWS_H_
#define LINECHANNEL_TESTS_SUPPORT_SQLITE_ROWS_H_

#include <string>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/strings/str_join.h"

namespace linechannel::testing {

// Every row `sql` selects, each as its columns' text ("NULL" for NULL) joined by "|": rows a
// test compares whole, whatever their columns.
inline std::vector<std::string> SqliteRows(SQLite::Database& db, const std::string& sql) {
  SQLite::Statement query(db, sql);
  std::vector<std::string> rows;
  while (query.executeStep()) {
    std::vector<std::string> columns;
    for (int i = 0; i < query.getColumnCount(); ++i) {
      columns.push_back(query.getColumn(i).isNull() ? "NULL" : query.getColumn(i).getString());
    }
    rows.push_back(absl::StrJoin(columns, "|"));
  }
  return rows;
}

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_SUPPORT_SQLITE_ROWS_H_
