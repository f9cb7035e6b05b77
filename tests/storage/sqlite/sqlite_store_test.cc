#include "storage/sqlite/sqlite_store.h"

#include <atomic>
#include <thread>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite/schema.h"
#include "tests/support/temp_dir.h"

namespace linechannel::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

Binding MakeBinding(const std::string& team, const std::string& channel, int n = 0) {
  Binding b;
  b.binding_id = absl::StrCat("id-", team, "-", channel, "-", n);
  b.team_id = team;
  b.app_name = "App " + channel;
  b.channel_id = channel;
  b.line_id = "line" + channel;
  b.bot_user_id = "U" + channel;
  b.bot_display_name = "Bot " + channel;
  b.webhook_key = absl::StrCat("key-", team, "-", channel, "-", n);
  b.channel_secret = {"k1", std::string("\x01sealed-secret\0x", 16)};
  b.access_token = {"k1", "\x01sealed-token"};
  b.channel_secret_hint = "…cdef";
  b.access_token_hint = "…n123";
  b.verified_with_line = true;
  b.bound_at = kT0;
  b.bound_by = "tester";
  b.credentials_updated_at = kT0;
  return b;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    SqliteStore::Options options;
    options.path = dir_.File("test.db");
    auto store = SqliteStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  absl::StatusOr<Binding> Insert(const Binding& b, Binding* conflict = nullptr) {
    return store_->InsertActive(b, {"tester", kT0, "bind"}, conflict);
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreTest, InsertsAndFindsByTeamChannelAndWebhookKey) {
  auto stored = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_GT(stored->row_id, 0);

  auto found = store_->FindActive("t1", "100");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->binding_id, "id-t1-100-0");
  EXPECT_EQ(found->channel_secret.ciphertext, std::string("\x01sealed-secret\0x", 16));
  EXPECT_EQ(found->access_token.key_id, "k1");
  EXPECT_EQ(found->bound_at, kT0);
  EXPECT_TRUE(found->active());

  auto by_key = store_->FindActiveByWebhookKey("key-t1-100-0");
  ASSERT_TRUE(by_key.ok());
  EXPECT_EQ(by_key->row_id, stored->row_id);

  EXPECT_TRUE(absl::IsNotFound(store_->FindActive("t2", "100").status()));
  EXPECT_TRUE(absl::IsNotFound(store_->FindActiveByWebhookKey("nope").status()));
}

TEST_F(SqliteStoreTest, OneActiveBindingPerChannelLineIdAndBotUser) {
  ASSERT_TRUE(Insert(MakeBinding("t1", "100")).ok());

  Binding conflict;
  // Same channel id, another team.
  auto same_channel = Insert(MakeBinding("t2", "100"), &conflict);
  EXPECT_TRUE(absl::IsAlreadyExists(same_channel.status())) << same_channel.status();
  EXPECT_EQ(conflict.team_id, "t1");

  // Same LINE ID under another channel id.
  Binding same_line = MakeBinding("t2", "200");
  same_line.line_id = "line100";
  conflict = {};
  EXPECT_TRUE(absl::IsAlreadyExists(Insert(same_line, &conflict).status()));
  EXPECT_EQ(conflict.channel_id, "100");

  // Same bot user under another channel id.
  Binding same_bot = MakeBinding("t2", "300");
  same_bot.bot_user_id = "U100";
  EXPECT_TRUE(absl::IsAlreadyExists(Insert(same_bot).status()));

  // Nothing of the refused inserts was written, audit included.
  auto page = store_->ListTeam("t2", true, 0, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->bindings, SizeIs(0));
}

TEST_F(SqliteStoreTest, UnknownBotUsersDoNotCollide) {
  Binding a = MakeBinding("t1", "100");
  a.bot_user_id.clear();
  Binding b = MakeBinding("t1", "200");
  b.bot_user_id.clear();
  ASSERT_TRUE(Insert(a).ok());
  ASSERT_TRUE(Insert(b).ok());
  auto found = store_->FindActive("t1", "200");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->bot_user_id, "");
}

TEST_F(SqliteStoreTest, UnbindKeepsHistoryAndFreesTheOa) {
  auto first = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(first.ok());
  auto unbound = store_->MarkUnbound("t1", "100", {"op", kT0 + absl::Hours(1), ""});
  ASSERT_TRUE(unbound.ok()) << unbound.status();
  EXPECT_FALSE(unbound->active());
  EXPECT_EQ(*unbound->unbound_at, kT0 + absl::Hours(1));
  EXPECT_EQ(unbound->unbound_by, "op");

  EXPECT_TRUE(absl::IsNotFound(store_->FindActive("t1", "100").status()));
  EXPECT_TRUE(absl::IsNotFound(store_->FindActiveByWebhookKey("key-t1-100-0").status()));
  EXPECT_TRUE(absl::IsNotFound(store_->MarkUnbound("t1", "100", {"op", kT0, ""}).status()));

  // Any team may now bind the OA, with a new key.
  auto second = Insert(MakeBinding("t2", "100", 1));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(second->row_id, first->row_id);

  // Webhook keys are never reused, even of unbound bindings.
  Binding reuse = MakeBinding("t3", "999", 2);
  reuse.webhook_key = "key-t1-100-0";
  EXPECT_TRUE(absl::IsAlreadyExists(Insert(reuse).status()));

  auto history = store_->ListTeam("t1", /*include_unbound=*/true, 0, 10);
  ASSERT_TRUE(history.ok());
  ASSERT_THAT(history->bindings, SizeIs(1));
  EXPECT_FALSE(history->bindings[0].active());
  auto active_only = store_->ListTeam("t1", /*include_unbound=*/false, 0, 10);
  ASSERT_TRUE(active_only.ok());
  EXPECT_THAT(active_only->bindings, SizeIs(0));
}

TEST_F(SqliteStoreTest, UnbindOfAnotherTeamsBindingIsNotFound) {
  ASSERT_TRUE(Insert(MakeBinding("t1", "100")).ok());
  EXPECT_TRUE(absl::IsNotFound(store_->MarkUnbound("t2", "100", {"op", kT0, ""}).status()));
  EXPECT_TRUE(store_->FindActive("t1", "100").ok());
}

TEST_F(SqliteStoreTest, EveryChangeIsAuditedInItsTransaction) {
  auto stored = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(stored.ok());
  CredentialUpdate update;
  update.access_token = SealedValue{"k2", "new-token"};
  update.access_token_hint = "…9999";
  auto updated =
      store_->ReplaceCredentials(stored->row_id, update, {"op2", kT0 + absl::Minutes(1), "token"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->access_token, (SealedValue{"k2", "new-token"}));
  EXPECT_EQ(updated->access_token_hint, "…9999");
  EXPECT_EQ(updated->channel_secret, stored->channel_secret);  // Untouched.
  EXPECT_EQ(updated->credentials_updated_at, kT0 + absl::Minutes(1));
  ASSERT_TRUE(store_->MarkUnbound("t1", "100", {"op3", kT0 + absl::Minutes(2), ""}).ok());

  auto audit = store_->ListAudit(stored->row_id);
  ASSERT_TRUE(audit.ok());
  EXPECT_THAT(
      *audit,
      ElementsAre(AllOf(Field(&AuditRecord::action, "bind"), Field(&AuditRecord::actor, "tester")),
                  AllOf(Field(&AuditRecord::action, "update_credentials"),
                        Field(&AuditRecord::actor, "op2"), Field(&AuditRecord::detail, "token")),
                  AllOf(Field(&AuditRecord::action, "unbind"), Field(&AuditRecord::actor, "op3"),
                        Field(&AuditRecord::at, kT0 + absl::Minutes(2)))));

  // An unbound binding's credentials cannot change any more.
  EXPECT_TRUE(absl::IsNotFound(
      store_->ReplaceCredentials(stored->row_id, update, {"op", kT0, ""}).status()));
  EXPECT_THAT(*store_->ListAudit(stored->row_id), SizeIs(3));
}

TEST_F(SqliteStoreTest, ListsNewestFirstInPages) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Insert(MakeBinding("t1", absl::StrCat(100 + i))).ok());
  ASSERT_TRUE(Insert(MakeBinding("t2", "900")).ok());
  std::vector<std::string> seen;
  int64_t after = 0;
  int pages = 0;
  do {
    auto page = store_->ListTeam("t1", false, after, 2);
    ASSERT_TRUE(page.ok());
    for (const auto& b : page->bindings) seen.push_back(b.channel_id);
    after = page->next_after_row_id;
    ++pages;
  } while (after != 0);
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(seen, ElementsAre("104", "103", "102", "101", "100"));
  EXPECT_TRUE(absl::IsInvalidArgument(store_->ListTeam("t1", false, 0, 0).status()));
}

TEST_F(SqliteStoreTest, ConcurrentInsertsOfOneOaHaveExactlyOneWinner) {
  constexpr int kThreads = 16;
  std::atomic<int> won{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto result = Insert(MakeBinding(absl::StrCat("team", i), "555", i));
      if (result.ok()) {
        ++won;
      } else if (absl::IsAlreadyExists(result.status())) {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won, 1);
  EXPECT_EQ(refused, kThreads - 1);
  EXPECT_EQ(other, 0);
}

TEST_F(SqliteStoreTest, EverythingSurvivesReopening) {
  auto stored = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(stored.ok());
  Reopen();
  auto found = store_->FindActive("t1", "100");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->webhook_key, stored->webhook_key);
  EXPECT_THAT(*store_->ListAudit(stored->row_id), SizeIs(1));
  EXPECT_TRUE(store_->CheckIntegrity().ok());
}

TEST_F(SqliteStoreTest, SamplesOneSealedValuePerKeyAndField) {
  ASSERT_TRUE(Insert(MakeBinding("t1", "100")).ok());
  Binding other_key = MakeBinding("t1", "200");
  other_key.channel_secret = {"k2", "sealed-under-k2"};
  ASSERT_TRUE(Insert(other_key).ok());
  ASSERT_TRUE(Insert(MakeBinding("t1", "300")).ok());
  auto samples = store_->SampleSealedValues();
  ASSERT_TRUE(samples.ok()) << samples.status();
  // channel_secret under k1 and k2, access_token under k1; each sample is a real row's value.
  std::vector<std::string> seen;
  for (const SealedSample& s : *samples) {
    seen.push_back(absl::StrCat(s.field, "/", s.value.key_id));
    auto holder = store_->FindActive("t1", s.channel_id);
    ASSERT_TRUE(holder.ok()) << s.channel_id;
    EXPECT_EQ(s.value, s.field == "channel_secret" ? holder->channel_secret : holder->access_token);
  }
  EXPECT_THAT(seen,
              UnorderedElementsAre("channel_secret/k1", "channel_secret/k2", "access_token/k1"));
}

TEST_F(SqliteStoreTest, SamplesNothingFromAnEmptyStore) {
  auto samples = store_->SampleSealedValues();
  ASSERT_TRUE(samples.ok()) << samples.status();
  EXPECT_THAT(*samples, IsEmpty());
}

TEST(SqliteSchemaTest, FreshFileGetsCurrentVersionAndReopeningChangesNothing) {
  testing::TempDir dir;
  const std::string path = dir.File("fresh.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    ASSERT_TRUE(MigrateSchema(db).ok());
    EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), CurrentSchemaVersion());
    ASSERT_TRUE(MigrateSchema(db).ok());
    EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), CurrentSchemaVersion());
  }
}

TEST(SqliteSchemaTest, RefusesAFileFromANewerBuild) {
  testing::TempDir dir;
  const std::string path = dir.File("newer.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    ASSERT_TRUE(MigrateSchema(db).ok());
    db.exec(absl::StrCat("PRAGMA user_version = ", CurrentSchemaVersion() + 1));
  }
  SqliteStore::Options options;
  options.path = path;
  auto store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status()));
  EXPECT_THAT(store.status().message(), HasSubstr("newer channeld"));
}

TEST(SqliteSchemaTest, RefusesAnotherProgramsDatabase) {
  testing::TempDir dir;
  const std::string path = dir.File("other.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE customers (id INTEGER)");
  }
  SqliteStore::Options options;
  options.path = path;
  auto store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
}

TEST(SqliteSchemaTest, RefusesAFileThatIsNotSqlite) {
  testing::TempDir dir;
  const std::string path = dir.File("garbage.db");
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("this is not a database, just text that is long enough to have a header......", f);
    std::fclose(f);
  }
  SqliteStore::Options options;
  options.path = path;
  auto store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
}

TEST(SqliteStoreErrorsTest, AWriteLockHeldTooLongFailsWritesAsUnavailableAndChangesNothing) {
  testing::TempDir dir;
  const std::string path = dir.File("ro.db");
  SqliteStore::Options options;
  options.path = path;
  {
    auto store = SqliteStore::Open(options);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->InsertActive(MakeBinding("t1", "100"), {"t", kT0, ""}, nullptr).ok());
  }
  // Another process holding the write lock: our writes wait for the busy timeout, then fail.
  options.busy_timeout = absl::Milliseconds(50);
  auto store = SqliteStore::Open(options);
  ASSERT_TRUE(store.ok());
  SQLite::Database blocker(path, SQLite::OPEN_READWRITE);
  blocker.exec("BEGIN IMMEDIATE");
  auto result = (*store)->InsertActive(MakeBinding("t1", "200"), {"t", kT0, ""}, nullptr);
  EXPECT_TRUE(absl::IsUnavailable(result.status())) << result.status();
  blocker.exec("ROLLBACK");
  EXPECT_TRUE(absl::IsNotFound((*store)->FindActive("t1", "200").status()));
  // The lock gone, the store works again by itself.
  EXPECT_TRUE((*store)->InsertActive(MakeBinding("t1", "200"), {"t", kT0, ""}, nullptr).ok());
}

}  // namespace
}  // namespace linechannel::storage
