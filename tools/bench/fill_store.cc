// bench_fill_store: grows a stopped channeld's database to a given number of bindings and
// events, for the scale benchmark (tools/bench/run --scale).
//
// The data dir must come from a channeld that has run once (the schema is migrated and the
// sealing key file exists) and has stopped: the file is written directly, with SQLite's
// journal off, in big transactions, which no live server may share. New bindings are active,
// each with its own channel, LINE ID, bot user ID and webhook key, and with a random channel
// secret and access token sealed by the server's own SecretSealer under the data dir's key,
// so channeld's start-up check of the sealed values passes and every row is as valid as one
// made by BindChannel (their secrets are not kept: nothing sends webhooks to them). New events
// are LINE-like message, follow and postback events of 400-700 bytes of raw JSON, spread
// uniformly over every active binding, received over the last --days days (inside the
// default retention), each with a unique ULID webhookEventId. The events table's indexes are
// dropped while loading and rebuilt after, with the schema's own CREATE INDEX statements, and
// the new rows' keys go into the event index tables with channeld's own statements.
//
// Prints one JSON object: what was added and how long each phase took.

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/crypto/key_ring.h"
#include "server/crypto/random_source.h"
#include "server/crypto/sealing_contexts.h"
#include "server/crypto/secret.h"
#include "server/crypto/secret_sealer.h"
#include "storage/sqlite/event_cursors.h"
#include "storage/sqlite/event_index.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/sqlite/team_cursors.h"

ABSL_FLAG(std::string, data_dir, "", "The stopped channeld's data dir.");
ABSL_FLAG(int64_t, bindings, 1000000, "Active bindings wanted in all (existing ones count).");
ABSL_FLAG(int64_t, events, 10000000, "Events wanted in all (existing ones count).");
ABSL_FLAG(int, days, 7, "Receive times are spread over this many days before now.");
ABSL_FLAG(int, bindings_per_team, 5, "New bindings per new team.");
ABSL_FLAG(int64_t, seed, 1, "Seed for the generated values.");
ABSL_FLAG(int64_t, cache_mib, 2048, "SQLite page cache while loading.");

namespace linechannel::bench {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "bench_fill_store: " << message << "\n";
  std::exit(1);
}

class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      Die(absl::StrCat("cannot open ", path, ": ", sqlite3_errmsg(db_)));
    }
  }
  ~Db() { sqlite3_close(db_); }

  void Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      Die(absl::StrCat(sql.substr(0, 80), ": ", error ? error : "?"));
    }
  }

  int64_t Int(const std::string& sql) {
    sqlite3_stmt* statement = Prepare(sql);
    int64_t value = 0;
    if (sqlite3_step(statement) == SQLITE_ROW) value = sqlite3_column_int64(statement, 0);
    sqlite3_finalize(statement);
    return value;
  }

  sqlite3_stmt* Prepare(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      Die(absl::StrCat("preparing ", sql.substr(0, 80), ": ", sqlite3_errmsg(db_)));
    }
    return statement;
  }

  void Step(sqlite3_stmt* statement) {
    const int rc = sqlite3_step(statement);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
      Die(absl::StrCat("writing: ", sqlite3_errmsg(db_)));
    }
    sqlite3_reset(statement);
  }

  int64_t last_row_id() { return sqlite3_last_insert_rowid(db_); }
  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void BindBlob(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_blob(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  uint64_t Below(uint64_t n) { return rng_() % n; }

  std::string Hex(size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(n, '0');
    for (size_t i = 0; i < n; ++i) out[i] = kHex[Below(16)];
    return out;
  }
  std::string Digits(size_t n) {
    std::string out(n, '0');
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>('0' + Below(10));
    if (out[0] == '0') out[0] = '1';
    return out;
  }
  std::string Token(size_t n) {
    static constexpr char kChars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out(n, 'A');
    for (size_t i = 0; i < n; ++i) out[i] = kChars[Below(64)];
    return out;
  }
  std::string Bytes(size_t n) {
    std::string out(n, '\0');
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(Below(256));
    return out;
  }

  // A ULID: 48 bits of milliseconds, 80 random bits, in Crockford's base32.
  std::string Ulid(int64_t millis) {
    static constexpr char kBase32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    std::string out(26, '0');
    uint64_t t = static_cast<uint64_t>(millis);
    for (int i = 9; i >= 0; --i) {
      out[i] = kBase32[t & 31];
      t >>= 5;
    }
    for (int i = 10; i < 26; ++i) out[i] = kBase32[Below(32)];
    return out;
  }

  // Message text as LINE escapes it: ASCII words, hiragana/katakana/kanji as \uXXXX and emoji
  // as surrogate pairs, until `bytes` escaped bytes.
  std::string Text(size_t bytes) {
    static const char* const kPieces[] = {"Hello ",
                                          "thanks ",
                                          "order ",
                                          "#",
                                          "12 ",
                                          "please ",
                                          "ok ",
                                          "when ",
                                          "open? ",
                                          "\\u3053\\u3093\\u306b\\u3061\\u306f",
                                          "\\u3042\\u308a\\u304c\\u3068\\u3046",
                                          "\\u6ce8\\u6587",
                                          "\\u4e88\\u7d04",
                                          "\\u30c1\\u30b1\\u30c3\\u30c8",
                                          "\\u3002",
                                          "\\ud83d\\udc4b",
                                          "\\ud83c\\udf63",
                                          "\\ud83d\\ude4f",
                                          " "};
    std::string out;
    while (out.size() < bytes) out += kPieces[Below(sizeof(kPieces) / sizeof(kPieces[0]))];
    return out;
  }

  // One event's raw JSON (400-700 bytes) and its type.
  std::string Event(const std::string& webhook_event_id, int64_t timestamp_ms,
                    const std::string& user_id, bool redelivery, std::string* type) {
    const size_t target = 400 + Below(301);
    const uint64_t kind = Below(100);
    std::string head = absl::StrCat("{\"type\":\"");
    std::string common =
        absl::StrCat(",\"timestamp\":", timestamp_ms, ",\"mode\":\"active\",\"webhookEventId\":\"",
                     webhook_event_id,
                     "\",\"deliveryContext\":{\"isRedelivery\":", redelivery ? "true" : "false",
                     "},\"source\":{\"type\":\"user\",\"userId\":\"", user_id,
                     "\"},\"replyToken\":\"", Hex(32), "\"");
    std::string json;
    if (kind < 92) {
      *type = "message";
      json = absl::StrCat(head, "message\"", common, ",\"message\":{\"type\":\"text\",\"id\":\"",
                          Digits(18), "\",\"quoteToken\":\"", Token(48), "\",\"text\":\"");
      const size_t tail = 3;  // "}}
      json += Text(target > json.size() + tail ? target - json.size() - tail : 8);
      json += "\"}}";
    } else if (kind < 96) {
      *type = "follow";
      json = absl::StrCat(head, "follow\"", common,
                          ",\"follow\":{\"isUnblocked\":", Below(2) ? "true" : "false", "}}");
    } else {
      *type = "postback";
      json = absl::StrCat(head, "postback\"", common,
                          ",\"postback\":{\"data\":\"action=buy&itemid=", Below(100000), "&note=");
      while (json.size() + 3 < target) json += static_cast<char>('a' + Below(26));
      json += "\"}}";
    }
    return json;
  }

 private:
  std::mt19937_64 rng_;
};

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int Main() {
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  if (data_dir.empty()) Die("--data_dir is required");
  const std::string db_path = data_dir + "/channeld.db";
  absl::StatusOr<server::KeyRing> keys = server::ReadKeyFile(data_dir + "/sealing.key");
  if (!keys.ok()) Die(std::string(keys.status().message()));
  server::OpenSslRandom random;
  server::SecretSealer sealer(*std::move(keys), &random);
  Generator gen(static_cast<uint64_t>(absl::GetFlag(FLAGS_seed)));

  Db db(db_path);
  // Writes the tables of this build's schema only (the cursor floor of version 13, say).
  if (db.Int("PRAGMA user_version") != storage::CurrentSchemaVersion()) {
    Die("the database is not at this build's schema version: start this build's channeld on it "
        "once, then stop it");
  }
  // Takes what a stopped server left in the WAL into the file. A live server's connections
  // make this (or the exclusive journal change below) fail.
  {
    sqlite3_stmt* checkpoint = db.Prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    const bool busy =
        sqlite3_step(checkpoint) != SQLITE_ROW || sqlite3_column_int(checkpoint, 0) != 0;
    sqlite3_finalize(checkpoint);
    if (busy) Die("the database is in use: stop channeld first");
  }
  db.Exec("PRAGMA journal_mode = DELETE");
  db.Exec("PRAGMA journal_mode = OFF");
  db.Exec("PRAGMA locking_mode = EXCLUSIVE");
  db.Exec("PRAGMA synchronous = OFF");
  db.Exec(absl::StrCat("PRAGMA cache_size = -", absl::GetFlag(FLAGS_cache_mib) * 1024));
  db.Exec("PRAGMA temp_store = MEMORY");
  // Index builds sort with a helper thread and scan the table through mmap.
  db.Exec("PRAGMA threads = 2");
  db.Exec("PRAGMA mmap_size = 68719476736");

  const auto started = Clock::now();
  const int64_t now_us = absl::ToUnixMicros(absl::Now());
  const int64_t have_bindings = db.Int("SELECT count(*) FROM bindings WHERE unbound_at_us IS NULL");
  const int64_t have_events = db.Int("SELECT count(*) FROM events");
  const int64_t add_bindings = std::max<int64_t>(0, absl::GetFlag(FLAGS_bindings) - have_bindings);
  const int64_t add_events = std::max<int64_t>(0, absl::GetFlag(FLAGS_events) - have_events);
  // Fresh numbers for the generated identifiers, after whatever an earlier fill made.
  const int64_t first = db.Int("SELECT coalesce(max(row_id), 0) FROM bindings") + 1;

  // Bindings, each with its audit row, in one transaction.
  const auto bindings_started = Clock::now();
  db.Exec("BEGIN");
  sqlite3_stmt* insert_binding = db.Prepare(
      "INSERT INTO bindings (binding_id, team_id, app_name, channel_id, line_id, bot_user_id, "
      "bot_display_name, webhook_key, secret_key_id, secret_sealed, secret_hint, token_key_id, "
      "token_sealed, token_hint, verified_with_line, bound_at_us, bound_by, "
      "credentials_updated_at_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)");
  sqlite3_stmt* insert_audit = db.Prepare(
      "INSERT INTO audit_log (binding_row_id, team_id, channel_id, action, actor, at_us, detail) "
      "VALUES (?, ?, ?, 'bind', 'bench-fill', ?, 'verified with LINE')");
  const int per_team = std::max(1, absl::GetFlag(FLAGS_bindings_per_team));
  for (int64_t i = 0; i < add_bindings; ++i) {
    const int64_t n = first + i;
    const std::string channel_id = absl::StrCat(3000000000 + n);
    const std::string team_id = absl::StrFormat("fill-team-%07d", n / per_team);
    const server::Secret secret(gen.Hex(32));
    const server::Secret token(gen.Token(172));
    absl::StatusOr<storage::SealedValue> sealed_secret =
        sealer.Seal(secret, server::SecretContext(channel_id));
    absl::StatusOr<storage::SealedValue> sealed_token =
        sealer.Seal(token, server::TokenContext(channel_id));
    if (!sealed_secret.ok() || !sealed_token.ok()) Die("sealing failed");
    const int64_t bound_at = now_us - static_cast<int64_t>(gen.Below(365ull * 86400 * 1000000));
    BindText(insert_binding, 1, gen.Hex(20));
    BindText(insert_binding, 2, team_id);
    BindText(insert_binding, 3, absl::StrCat("Fill Shop ", n));
    BindText(insert_binding, 4, channel_id);
    BindText(insert_binding, 5, absl::StrFormat("fill%08d", n));
    BindText(insert_binding, 6, "U" + gen.Hex(32));
    BindText(insert_binding, 7, absl::StrCat("Fill Shop ", n));
    BindText(insert_binding, 8, absl::WebSafeBase64Escape(gen.Bytes(24)));
    BindText(insert_binding, 9, sealed_secret->key_id);
    BindBlob(insert_binding, 10, sealed_secret->ciphertext);
    BindText(insert_binding, 11, secret.Hint());
    BindText(insert_binding, 12, sealed_token->key_id);
    BindBlob(insert_binding, 13, sealed_token->ciphertext);
    BindText(insert_binding, 14, token.Hint());
    sqlite3_bind_int64(insert_binding, 15, bound_at);
    BindText(insert_binding, 16, "bench-fill");
    sqlite3_bind_int64(insert_binding, 17, bound_at);
    db.Step(insert_binding);
    sqlite3_bind_int64(insert_audit, 1, db.last_row_id());
    BindText(insert_audit, 2, team_id);
    BindText(insert_audit, 3, channel_id);
    sqlite3_bind_int64(insert_audit, 4, bound_at);
    db.Step(insert_audit);
  }
  sqlite3_finalize(insert_binding);
  sqlite3_finalize(insert_audit);
  db.Exec("COMMIT");
  const double bindings_seconds = Since(bindings_started);

  // Events over every active binding.
  struct Target {
    int64_t row_id;
    std::string team_id, channel_id;
    int64_t last_received_us = 0;
  };
  std::vector<Target> targets;
  {
    sqlite3_stmt* select =
        db.Prepare("SELECT row_id, team_id, channel_id FROM bindings WHERE unbound_at_us IS NULL");
    while (sqlite3_step(select) == SQLITE_ROW) {
      targets.push_back({sqlite3_column_int64(select, 0),
                         reinterpret_cast<const char*>(sqlite3_column_text(select, 1)),
                         reinterpret_cast<const char*>(sqlite3_column_text(select, 2))});
    }
    sqlite3_finalize(select);
  }
  if (targets.empty() && add_events > 0) Die("no active bindings to give events to");

  const auto events_started = Clock::now();
  std::vector<std::string> index_sql;
  {
    sqlite3_stmt* select = db.Prepare(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'events' AND "
        "sql IS NOT NULL");
    std::vector<std::string> names;
    while (sqlite3_step(select) == SQLITE_ROW) {
      names.push_back(reinterpret_cast<const char*>(sqlite3_column_text(select, 0)));
      index_sql.push_back(reinterpret_cast<const char*>(sqlite3_column_text(select, 1)));
    }
    sqlite3_finalize(select);
    if (add_events > 0) {
      for (const std::string& name : names) db.Exec(absl::StrCat("DROP INDEX ", name));
    }
  }
  // Cursors after the greatest the server gave (storage/sqlite/event_cursors.h).
  const int64_t last_cursor =
      std::max(db.Int(storage::kEventCursorFloor), db.Int(storage::kLastEventCursor));
  sqlite3_stmt* insert_event = db.Prepare(
      "INSERT INTO events (binding_row_id, team_id, channel_id, webhook_event_id, type, "
      "timestamp_ms, mode, redelivery, source_type, source_user_id, source_group_id, "
      "source_room_id, received_at_us, raw_json, seq) VALUES (?, ?, ?, ?, ?, ?, 'active', ?, "
      "'user', ?, '', '', ?, ?, ?)");
  const int64_t span_us = int64_t{absl::GetFlag(FLAGS_days)} * 86400 * 1000000;
  // Receive times increase with the cursor, as they do in the server, ending a minute ago.
  const int64_t begin_us = now_us - span_us;
  const int64_t step_us =
      add_events > 0 ? std::max<int64_t>(1, (span_us - 60000000) / add_events) : 1;
  uint64_t raw_bytes = 0;
  db.Exec("BEGIN");
  for (int64_t i = 0; i < add_events; ++i) {
    if (i > 0 && i % 1000000 == 0) {
      db.Exec("COMMIT");
      db.Exec("BEGIN");
    }
    Target& target = targets[gen.Below(targets.size())];
    const int64_t received_us = begin_us + i * step_us;
    const int64_t timestamp_ms = received_us / 1000 - static_cast<int64_t>(50 + gen.Below(3000));
    const std::string id = gen.Ulid(timestamp_ms);
    const std::string user_id = "U" + gen.Hex(32);
    const bool redelivery = gen.Below(100) == 0;
    std::string type;
    const std::string raw = gen.Event(id, timestamp_ms, user_id, redelivery, &type);
    raw_bytes += raw.size();
    sqlite3_bind_int64(insert_event, 1, target.row_id);
    BindText(insert_event, 2, target.team_id);
    BindText(insert_event, 3, target.channel_id);
    BindText(insert_event, 4, id);
    BindText(insert_event, 5, type);
    sqlite3_bind_int64(insert_event, 6, timestamp_ms);
    sqlite3_bind_int(insert_event, 7, redelivery ? 1 : 0);
    BindText(insert_event, 8, user_id);
    sqlite3_bind_int64(insert_event, 9, received_us);
    BindText(insert_event, 10, raw);
    sqlite3_bind_int64(insert_event, 11, last_cursor + 1 + i);
    db.Step(insert_event);
    target.last_received_us = received_us;
  }
  sqlite3_finalize(insert_event);
  db.Exec("COMMIT");
  const double events_seconds = Since(events_started);

  const auto index_started = Clock::now();
  if (add_events > 0) {
    db.Exec("BEGIN");
    for (const std::string& sql : index_sql) db.Exec(sql);
    // The new rows' keys into the event index tables, as channeld's own catch-up adds them.
    const int64_t indexed = db.Int("SELECT through_seq FROM events_indexed WHERE one = 1");
    const int64_t newest = db.Int("SELECT coalesce(max(seq), 0) FROM events");
    // Each team's cursors in rows of channeld's catch-ups' size, the keys at once.
    const auto index = [&db](const char* sql, int64_t from, int64_t through) {
      sqlite3_stmt* statement = db.Prepare(sql);
      sqlite3_bind_int64(statement, 1, from);
      sqlite3_bind_int64(statement, 2, through);
      db.Step(statement);
      sqlite3_finalize(statement);
    };
    if (absl::Status registered = linechannel::storage::RegisterTeamCursorsFunction(db.handle());
        !registered.ok()) {
      Die(std::string(registered.message()));
    }
    const int64_t catch_up_rows = linechannel::storage::SqliteStore::Options().event_index_batch;
    for (int64_t from = indexed; from < newest; from += catch_up_rows) {
      for (const char* sql :
           {linechannel::storage::kIndexTeamCursors, linechannel::storage::kIndexTeamNewest}) {
        index(sql, from, std::min(newest, from + catch_up_rows));
      }
    }
    index(linechannel::storage::kIndexEventsOncePerOa, indexed, newest);
    index(linechannel::storage::kMarkEventsIndexed, indexed, newest);
    // What the endpoint saw: the last signed request of every binding that got events.
    sqlite3_stmt* activity = db.Prepare(
        "INSERT INTO webhook_activity (binding_row_id, last_signed_at_us) VALUES (?, ?) "
        "ON CONFLICT (binding_row_id) DO UPDATE SET last_signed_at_us = "
        "max(coalesce(last_signed_at_us, 0), excluded.last_signed_at_us)");
    for (const Target& target : targets) {
      if (target.last_received_us == 0) continue;
      sqlite3_bind_int64(activity, 1, target.row_id);
      sqlite3_bind_int64(activity, 2, target.last_received_us);
      db.Step(activity);
    }
    sqlite3_finalize(activity);
    db.Exec("COMMIT");
  }
  const double index_seconds = Since(index_started);
  db.Exec("PRAGMA journal_mode = WAL");

  const int64_t pages = db.Int("PRAGMA page_count");
  const int64_t page_size = db.Int("PRAGMA page_size");
  std::cout << absl::StrFormat(
                   "{\"added_bindings\":%d,\"added_events\":%d,\"bindings\":%d,\"events\":%d,"
                   "\"bindings_seconds\":%.1f,\"events_seconds\":%.1f,\"index_seconds\":%.1f,"
                   "\"total_seconds\":%.1f,\"avg_raw_json_bytes\":%.1f,\"db_bytes\":%d}",
                   add_bindings, add_events, have_bindings + add_bindings, have_events + add_events,
                   bindings_seconds, events_seconds, index_seconds, Since(started),
                   add_events > 0 ? static_cast<double>(raw_bytes) / add_events : 0.0,
                   pages * page_size)
            << std::endl;
  return 0;
}

}  // namespace
}  // namespace linechannel::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Grows a stopped channeld's database (see the source).");
  absl::ParseCommandLine(argc, argv);
  return linechannel::bench::Main();
}
