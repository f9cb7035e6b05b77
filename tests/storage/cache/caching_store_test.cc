#include "storage/cache/caching_store.h"

#include <functional>
#include <future>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/storage/make_binding.h"
#include "tests/support/temp_dir.h"

namespace linechannel::storage {
namespace {

using ::testing::ElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

// Runs `hook` once if it is set, and clears it first (it may start another read).
void RunOnce(std::function<void()>& hook) {
  if (!hook) return;
  std::function<void()> once = std::move(hook);
  hook = nullptr;
  once();
}

// The SQLite store's bindings, counting the reads the cache lets through and running
// `during_read` between the database's answer and its return (where a racing write lands).
class CountingBindings : public BindingStore {
 public:
  explicit CountingBindings(BindingStore* inner) : inner_(inner) {}

  int reads() const { return reads_; }
  std::function<void()> during_read;

  absl::StatusOr<Binding> FindActive(absl::string_view team_id,
                                     absl::string_view channel_id) override {
    return Counted(inner_->FindActive(team_id, channel_id));
  }
  absl::StatusOr<Binding> FindActiveByWebhookKey(absl::string_view webhook_key) override {
    return Counted(inner_->FindActiveByWebhookKey(webhook_key));
  }
  absl::StatusOr<Binding> InsertActive(const Binding& binding, const Change& change,
                                       Binding* conflict) override {
    return inner_->InsertActive(binding, change, conflict);
  }
  absl::StatusOr<BindingPage> ListTeam(absl::string_view team_id, bool include_unbound,
                                       int64_t after_row_id, int limit) override {
    return inner_->ListTeam(team_id, include_unbound, after_row_id, limit);
  }
  absl::StatusOr<Binding> MarkUnbound(absl::string_view team_id, absl::string_view channel_id,
                                      const Change& change) override {
    return inner_->MarkUnbound(team_id, channel_id, change);
  }
  absl::StatusOr<Binding> ReplaceCredentials(int64_t row_id, const CredentialUpdate& update,
                                             const Change& change) override {
    return inner_->ReplaceCredentials(row_id, update, change);
  }
  absl::StatusOr<std::vector<AuditRecord>> ListAudit(int64_t row_id) override {
    return inner_->ListAudit(row_id);
  }
  absl::StatusOr<AuditPage> ListTeamAudit(absl::string_view team_id, absl::string_view channel_id,
                                          int64_t before_id, int limit) override {
    return inner_->ListTeamAudit(team_id, channel_id, before_id, limit);
  }
  absl::Status SetAttention(int64_t row_id, const std::vector<std::string>& reasons,
                            absl::Time checked_at) override {
    return inner_->SetAttention(row_id, reasons, checked_at);
  }
  absl::StatusOr<Binding> RecordProof(int64_t row_id, const Proof& proof, const Change& change,
                                      Binding* conflict) override {
    return inner_->RecordProof(row_id, proof, change, conflict);
  }
  absl::StatusOr<std::vector<Binding>> ListActive(int64_t after_row_id, int limit) override {
    return inner_->ListActive(after_row_id, limit);
  }

 private:
  absl::StatusOr<Binding> Counted(absl::StatusOr<Binding> read) {
    ++reads_;
    RunOnce(during_read);
    return read;
  }

  BindingStore* const inner_;
  int reads_ = 0;
};

// The SQLite store's check records, counting LastCheckRecord's reads the cache lets through,
// with `during_read` as above.
class CountingChecks : public CheckStore {
 public:
  explicit CountingChecks(CheckStore* inner) : inner_(inner) {}

  int reads() const { return reads_; }
  std::function<void()> during_read;

  absl::Status SaveCheckRecord(int64_t row_id, const CheckRecord& record) override {
    return inner_->SaveCheckRecord(row_id, record);
  }
  absl::StatusOr<CheckRecord> LastCheckRecord(int64_t row_id) override {
    absl::StatusOr<CheckRecord> read = inner_->LastCheckRecord(row_id);
    ++reads_;
    RunOnce(during_read);
    return read;
  }
  absl::StatusOr<bool> TakeLineTestCall(absl::string_view channel_id, absl::Time at,
                                        absl::Duration window, int limit) override {
    return inner_->TakeLineTestCall(channel_id, at, window, limit);
  }

 private:
  CheckStore* const inner_;
  int reads_ = 0;
};

class CachingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(100); }

  void Open(size_t capacity) {
    cache_.reset();
    sqlite_.reset();
    SqliteStore::Options options;
    options.path = dir_.File("cache.db");
    sqlite_ = *SqliteStore::Open(options);
    counting_ = std::make_unique<CountingBindings>(sqlite_.get());
    checks_ = std::make_unique<CountingChecks>(sqlite_.get());
    Store inner = AllRolesOf(*sqlite_);
    inner.bindings = counting_.get();
    inner.checks = checks_.get();
    cache_ = std::make_unique<CachingStore>(inner, capacity);
    store_ = cache_->roles();
  }

  void TearDown() override {
    sqlite_.reset();  // Before the cache: its last callbacks run through the cache.
    cache_.reset();
  }

  Binding Bind(const std::string& team, const std::string& channel) {
    absl::StatusOr<Binding> stored =
        store_.bindings->InsertActive(MakeBinding(team, channel), {"t", kT0, ""}, nullptr);
    EXPECT_TRUE(stored.ok()) << stored.status();
    return stored.ok() ? *stored : Binding();
  }

  testing::TempDir dir_;
  std::unique_ptr<SqliteStore> sqlite_;
  std::unique_ptr<CountingBindings> counting_;
  std::unique_ptr<CountingChecks> checks_;
  std::unique_ptr<CachingStore> cache_;
  Store store_;
};

TEST_F(CachingStoreTest, HandsOutItsOwnRolesButTheInnerJobsAndPushes) {
  EXPECT_EQ(store_.bindings, cache_.get());
  EXPECT_EQ(store_.sealed, cache_.get());
  EXPECT_EQ(store_.checks, cache_.get());
  EXPECT_EQ(store_.events, cache_.get());
  EXPECT_EQ(store_.jobs, sqlite_.get());
  EXPECT_EQ(store_.pushes, sqlite_.get());
}

TEST_F(CachingStoreTest, ABindingIsReadOnceByEitherKey) {
  const Binding a = Bind("t1", "100");
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  EXPECT_EQ(counting_->reads(), 1);
  EXPECT_EQ(store_.bindings->FindActive("t1", "100")->row_id, a.row_id);
  EXPECT_EQ(store_.bindings->FindActiveByWebhookKey("key-t1-100-0")->row_id, a.row_id);
  EXPECT_EQ(counting_->reads(), 1);
  EXPECT_EQ(cache_->size(), 1u);
}

TEST_F(CachingStoreTest, WhatIsNotFoundIsNotCached) {
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActive("t1", "100").status()));
  Bind("t1", "100");
  EXPECT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  EXPECT_EQ(counting_->reads(), 2);
}

TEST_F(CachingStoreTest, EveryWriteThroughItIsSeenByTheNextRead) {
  const Binding a = Bind("t1", "100");
  ASSERT_TRUE(store_.bindings->FindActiveByWebhookKey("key-t1-100-0").ok());

  ASSERT_TRUE(store_.bindings->SetAttention(a.row_id, {"fix it"}, kT0).ok());
  EXPECT_THAT(store_.bindings->FindActiveByWebhookKey("key-t1-100-0")->attention_reasons,
              ElementsAre("fix it"));

  CredentialUpdate update;
  update.channel_secret = SealedValue{"k1", "new-secret"};
  ASSERT_TRUE(store_.bindings->ReplaceCredentials(a.row_id, update, {"t", kT0, ""}).ok());
  EXPECT_EQ(store_.bindings->FindActive("t1", "100")->channel_secret.ciphertext, "new-secret");

  ASSERT_TRUE(
      store_.sealed->ReplaceSealed({{a.row_id, true, {"k1", "new-secret"}, {"k2", "resealed"}}})
          .ok());
  EXPECT_EQ(store_.bindings->FindActiveByWebhookKey("key-t1-100-0")->channel_secret,
            (SealedValue{"k2", "resealed"}));

  std::promise<absl::Status> recorded;
  store_.events->RecordTrouble(a.row_id, WebhookTrouble::kBadSignature, kT0 + absl::Seconds(1),
                               [&](absl::Status s) { recorded.set_value(s); });
  ASSERT_TRUE(recorded.get_future().get().ok());
  EXPECT_EQ(store_.bindings->FindActive("t1", "100")->activity.last_bad_signature,
            kT0 + absl::Seconds(1));

  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "100", {"t", kT0, ""}).ok());
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActive("t1", "100").status()));
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActiveByWebhookKey("key-t1-100-0").status()));
  EXPECT_EQ(cache_->size(), 0u);
}

TEST_F(CachingStoreTest, AStoredBatchMovesTheCachedLastSignedRequestWithoutARead) {
  const Binding a = Bind("t1", "100");
  ASSERT_TRUE(store_.bindings->FindActiveByWebhookKey("key-t1-100-0").ok());
  const int reads = counting_->reads();
  for (const absl::Time at : {kT0 + absl::Seconds(5), kT0 + absl::Seconds(3)}) {
    std::promise<absl::StatusOr<AppendResult>> appended;
    store_.events->AppendEvents({a.row_id, "t1", "100", at, {}},
                                [&](absl::StatusOr<AppendResult> r) { appended.set_value(r); });
    ASSERT_TRUE(appended.get_future().get().ok());
  }
  // The later of the two, as the store keeps it.
  EXPECT_EQ(store_.bindings->FindActiveByWebhookKey("key-t1-100-0")->activity.last_signed_request,
            kT0 + absl::Seconds(5));
  EXPECT_EQ(sqlite_->ReadActivity(a.row_id)->last_signed_request, kT0 + absl::Seconds(5));
  EXPECT_EQ(counting_->reads(), reads);
}

TEST_F(CachingStoreTest, InvalidateBindingSendsTheNextReadToTheInnerStore) {
  const Binding a = Bind("t1", "100");
  const Binding b = Bind("t1", "200");
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  ASSERT_TRUE(store_.bindings->FindActive("t1", "200").ok());
  // Another process changes the database behind the cache's back.
  ASSERT_TRUE(sqlite_->SetAttention(a.row_id, {"elsewhere"}, kT0).ok());
  ASSERT_TRUE(sqlite_->SetAttention(b.row_id, {"elsewhere"}, kT0).ok());
  EXPECT_TRUE(store_.bindings->FindActive("t1", "100")->attention_reasons.empty());

  const int reads = counting_->reads();
  cache_->InvalidateBinding(a.row_id);
  EXPECT_THAT(store_.bindings->FindActiveByWebhookKey("key-t1-100-0")->attention_reasons,
              ElementsAre("elsewhere"));
  EXPECT_EQ(counting_->reads(), reads + 1);
  // Only that binding was dropped.
  EXPECT_TRUE(store_.bindings->FindActive("t1", "200")->attention_reasons.empty());
  EXPECT_EQ(counting_->reads(), reads + 1);
  cache_->InvalidateBinding(999);  // Unknown rows are fine.
}

// Another process unbound a cached binding and its news has not arrived: FindActive still
// answers from the cache, FindActiveNow asks the database and drops the stale copy.
TEST_F(CachingStoreTest, FindActiveNowIsNeverAnsweredFromTheCache) {
  Bind("t1", "100");
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  ASSERT_TRUE(sqlite_->MarkUnbound("t1", "100", {"elsewhere", kT0, ""}).ok());
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());

  const int reads = counting_->reads();
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActiveNow("t1", "100").status()));
  EXPECT_EQ(counting_->reads(), reads + 1);
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActive("t1", "100").status()));
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActiveByWebhookKey("key-t1-100-0").status()));
  // An active binding is read from the database each time as well.
  Bind("t1", "200");
  ASSERT_TRUE(store_.bindings->FindActive("t1", "200").ok());
  const int before = counting_->reads();
  EXPECT_TRUE(store_.bindings->FindActiveNow("t1", "200").ok());
  EXPECT_TRUE(store_.bindings->FindActiveNow("t1", "200").ok());
  EXPECT_EQ(counting_->reads(), before + 2);
}

TEST_F(CachingStoreTest, InvalidateAllSendsEveryNextReadToTheInnerStore) {
  const Binding a = Bind("t1", "100");
  const Binding b = Bind("t1", "200");
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  ASSERT_TRUE(store_.bindings->FindActive("t1", "200").ok());
  ASSERT_TRUE(sqlite_->MarkUnbound("t1", "100", {"elsewhere", kT0, ""}).ok());
  ASSERT_TRUE(sqlite_->SetAttention(b.row_id, {"elsewhere"}, kT0).ok());

  cache_->InvalidateAll();
  EXPECT_EQ(cache_->size(), 0u);
  const int reads = counting_->reads();
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActiveByWebhookKey("key-t1-100-0").status()));
  EXPECT_THAT(store_.bindings->FindActive("t1", "200")->attention_reasons,
              ElementsAre("elsewhere"));
  EXPECT_EQ(counting_->reads(), reads + 2);
}

TEST_F(CachingStoreTest, AReadRacingAWriteDoesNotCacheWhatItReadBefore) {
  const Binding a = Bind("t1", "100");
  // The read gets the database's answer, then the write commits and drops, then the read
  // returns its (now old) answer: that answer must not be cached.
  counting_->during_read = [&] {
    ASSERT_TRUE(store_.bindings->SetAttention(a.row_id, {"changed"}, kT0).ok());
  };
  EXPECT_TRUE(store_.bindings->FindActive("t1", "100")->attention_reasons.empty());
  EXPECT_EQ(cache_->size(), 0u);
  EXPECT_THAT(store_.bindings->FindActive("t1", "100")->attention_reasons, ElementsAre("changed"));

  // The same for a stored batch (no drop, but the read's activity is older).
  counting_->during_read = [&] {
    std::promise<absl::StatusOr<AppendResult>> appended;
    store_.events->AppendEvents({a.row_id, "t1", "100", kT0 + absl::Seconds(7), {}},
                                [&](absl::StatusOr<AppendResult> r) { appended.set_value(r); });
    ASSERT_TRUE(appended.get_future().get().ok());
  };
  cache_->InvalidateBinding(a.row_id);
  EXPECT_FALSE(store_.bindings->FindActiveByWebhookKey("key-t1-100-0")
                   ->activity.last_signed_request.has_value());
  EXPECT_EQ(store_.bindings->FindActiveByWebhookKey("key-t1-100-0")->activity.last_signed_request,
            kT0 + absl::Seconds(7));

  // And for another process's change announced during the read.
  cache_->InvalidateBinding(a.row_id);
  counting_->during_read = [&] {
    ASSERT_TRUE(sqlite_->SetAttention(a.row_id, {"elsewhere"}, kT0).ok());
    cache_->InvalidateBinding(a.row_id);
  };
  EXPECT_THAT(store_.bindings->FindActive("t1", "100")->attention_reasons, ElementsAre("changed"));
  EXPECT_THAT(store_.bindings->FindActive("t1", "100")->attention_reasons,
              ElementsAre("elsewhere"));
}

TEST_F(CachingStoreTest, ACachedBindingKeepsItsCheckRecordUntilANewOneIsSaved) {
  const Binding a = Bind("t1", "100");
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  // None yet: that answer is kept too.
  EXPECT_TRUE(absl::IsNotFound(store_.checks->LastCheckRecord(a.row_id).status()));
  EXPECT_TRUE(absl::IsNotFound(store_.checks->LastCheckRecord(a.row_id).status()));
  EXPECT_EQ(checks_->reads(), 1);

  ASSERT_TRUE(store_.checks->SaveCheckRecord(a.row_id, {kT0, "first"}).ok());
  EXPECT_EQ(store_.checks->LastCheckRecord(a.row_id)->result, "first");
  EXPECT_EQ(checks_->reads(), 2);

  // The save dropped the binding with its record; once the binding is cached again, so is the
  // record.
  ASSERT_TRUE(store_.bindings->FindActiveByWebhookKey("key-t1-100-0").ok());
  EXPECT_EQ(store_.checks->LastCheckRecord(a.row_id)->result, "first");
  EXPECT_EQ(store_.checks->LastCheckRecord(a.row_id)->checked_at, kT0);
  EXPECT_EQ(checks_->reads(), 3);

  ASSERT_TRUE(store_.checks->SaveCheckRecord(a.row_id, {kT0 + absl::Seconds(1), "second"}).ok());
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  EXPECT_EQ(store_.checks->LastCheckRecord(a.row_id)->result, "second");
  EXPECT_EQ(store_.checks->LastCheckRecord(a.row_id)->result, "second");
  EXPECT_EQ(checks_->reads(), 4);
}

TEST_F(CachingStoreTest, TheCheckRecordOfABindingNotCachedIsReadEachTime) {
  const Binding a = Bind("t1", "100");
  ASSERT_TRUE(store_.checks->SaveCheckRecord(a.row_id, {kT0, "kept"}).ok());
  EXPECT_EQ(store_.checks->LastCheckRecord(a.row_id)->result, "kept");
  EXPECT_EQ(store_.checks->LastCheckRecord(a.row_id)->result, "kept");
  EXPECT_EQ(checks_->reads(), 2);
  EXPECT_EQ(cache_->size(), 0u);
}

TEST_F(CachingStoreTest, ACheckRecordSavedElsewhereIsSeenOnceTheBindingIsInvalidated) {
  const Binding a = Bind("t1", "100");
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  EXPECT_TRUE(absl::IsNotFound(store_.checks->LastCheckRecord(a.row_id).status()));
  // Another process saves one behind the cache's back, then announces it.
  ASSERT_TRUE(sqlite_->SaveCheckRecord(a.row_id, {kT0, "elsewhere"}).ok());
  cache_->InvalidateBinding(a.row_id);
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  EXPECT_EQ(store_.checks->LastCheckRecord(a.row_id)->result, "elsewhere");

  ASSERT_TRUE(sqlite_->SaveCheckRecord(a.row_id, {kT0, "again"}).ok());
  cache_->InvalidateAll();
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  EXPECT_EQ(store_.checks->LastCheckRecord(a.row_id)->result, "again");
}

TEST_F(CachingStoreTest, ACheckRecordReadRacingASaveIsNotCached) {
  const Binding a = Bind("t1", "100");
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  checks_->during_read = [&] {
    ASSERT_TRUE(store_.checks->SaveCheckRecord(a.row_id, {kT0, "saved meanwhile"}).ok());
    // The binding is cached again before the racing read returns.
    ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  };
  EXPECT_TRUE(absl::IsNotFound(store_.checks->LastCheckRecord(a.row_id).status()));
  EXPECT_EQ(store_.checks->LastCheckRecord(a.row_id)->result, "saved meanwhile");
}

TEST_F(CachingStoreTest, HoldsAtMostItsCapacityDroppingTheLeastRecentlyUsed) {
  Open(2);
  Bind("t1", "100");
  Bind("t1", "200");
  Bind("t1", "300");
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  ASSERT_TRUE(store_.bindings->FindActive("t1", "200").ok());
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());  // 200 is now the oldest.
  ASSERT_TRUE(store_.bindings->FindActive("t1", "300").ok());
  EXPECT_EQ(cache_->size(), 2u);
  const int reads = counting_->reads();
  ASSERT_TRUE(store_.bindings->FindActiveByWebhookKey("key-t1-100-0").ok());
  ASSERT_TRUE(store_.bindings->FindActiveByWebhookKey("key-t1-300-0").ok());
  EXPECT_EQ(counting_->reads(), reads);
  ASSERT_TRUE(store_.bindings->FindActiveByWebhookKey("key-t1-200-0").ok());
  EXPECT_EQ(counting_->reads(), reads + 1);
}

TEST_F(CachingStoreTest, ZeroCapacityPassesEveryReadThrough) {
  Open(0);
  Bind("t1", "100");
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  ASSERT_TRUE(store_.bindings->FindActive("t1", "100").ok());
  EXPECT_EQ(counting_->reads(), 2);
  EXPECT_EQ(cache_->size(), 0u);
}

}  // namespace
}  // namespace linechannel::storage
