#ifndef LINECHANNEL_TESTS_STORAGE_SQLITE_TEAM_CURSOR_KEYS_H_
#define LINECHANNEL_TESTS_STORAGE_SQLITE_TEAM_CURSOR_KEYS_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "storage/sqlite/team_cursors.h"

namespace linechannel::storage {

// Every (team, cursor) that events_team_cursors holds, by cursor: what a key per event was.
inline std::vector<std::pair<std::string, int64_t>> TeamCursorKeys(SQLite::Database& db) {
  std::vector<std::pair<std::string, int64_t>> keys;
  SQLite::Statement select(db, "SELECT team_id, cursors FROM events_team_cursors");
  while (select.executeStep()) {
    const SQLite::Column cursors = select.getColumn(1);
    absl::StatusOr<std::vector<int64_t>> decoded = DecodeCursors(absl::string_view(
        static_cast<const char*>(cursors.getBlob()), static_cast<size_t>(cursors.getBytes())));
    EXPECT_TRUE(decoded.ok()) << decoded.status();
    if (!decoded.ok()) continue;
    for (const int64_t cursor : *decoded)
      keys.emplace_back(select.getColumn(0).getString(), cursor);
  }
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  return keys;
}

}  // namespace linechannel::storage

#endif  // LINECHANNEL_TESTS_STORAGE_SQLITE_TEAM_CURSOR_KEYS_H_
