// What only a shared database has: several stores (replicas) on one PostgreSQL database, an
// event that commits late, other replicas' changes, and PostgreSQL going away and coming back.

#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_schema.h"
#include "tests/storage/make_binding.h"
#include "tests/storage/postgres/fresh_postgres_store.h"

namespace linechannel::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);
const Change kBind{"tester", kT0, "bind"};

PostgresStore::Options On(const std::string& url) {
  PostgresStore::Options options;
  options.url = url;
  return options;
}

// Sets `*listening` once the store's listener hears notifications. reachable() cannot tell: it
// is true from the start (the store was opened on a working connection), before LISTEN took
// effect; the listener reports changes missed right after it did.
void TellWhenListening(PostgresStore::Options& options, std::atomic<bool>* listening) {
  options.on_change.changes_missed = [listening] { listening->store(true); };
}

// `n` stores on `url`, as `n` replicas; fails the test and returns none if one cannot be opened.
std::vector<std::unique_ptr<PostgresStore>> OpenReplicas(const std::string& url, int n) {
  std::vector<std::unique_ptr<PostgresStore>> replicas;
  for (int i = 0; i < n; ++i) {
    replicas.push_back(OpenPostgresStore(On(url)));
    if (replicas.back() == nullptr) return {};
  }
  return replicas;
}

EventBatch Batch(const Binding& b, std::vector<NewEvent> events) {
  return EventBatch{b.row_id, b.team_id, b.channel_id, kT0, std::move(events)};
}

std::future<absl::StatusOr<AppendResult>> AppendAsync(EventStore& store, EventBatch batch) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<AppendResult>>>();
  auto future = promise->get_future();
  store.AppendEvents(std::move(batch), [promise](absl::StatusOr<AppendResult> result) {
    promise->set_value(std::move(result));
  });
  return future;
}

absl::StatusOr<AppendResult> Append(EventStore& store, EventBatch batch) {
  return AppendAsync(store, std::move(batch)).get();
}

// `events` without the lifecycle events (of binds and unbinds) among them.
std::vector<StoredEvent> OnlyWebhook(std::vector<StoredEvent> events) {
  events.erase(std::remove_if(events.begin(), events.end(),
                              [](const StoredEvent& e) { return e.lifecycle.has_value(); }),
               events.end());
  return events;
}

std::vector<std::string> Ids(const std::vector<StoredEvent>& events) {
  std::vector<std::string> ids;
  for (const StoredEvent& e : events) ids.push_back(e.event.webhook_event_id.value_or(""));
  return ids;
}

// A plain libpq connection for the test's own statements.
std::unique_ptr<PgConnection> Connect(const std::string& url) {
  auto db = PgConnection::Open({url});
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *std::move(db) : nullptr;
}

// Waits until `done` holds, for at most `limit`.
template <typename Condition>
bool Eventually(Condition done, absl::Duration limit = absl::Seconds(20)) {
  const absl::Time deadline = absl::Now() + limit;
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return done();
}

TEST(PostgresReplicasTest, ConcurrentBindsOfOneOaOverThreeReplicasHaveOneWinner) {
  const std::string url = FreshPostgresDatabase();
  ASSERT_FALSE(url.empty());
  std::vector<std::unique_ptr<PostgresStore>> replicas = OpenReplicas(url, 3);
  ASSERT_EQ(replicas.size(), 3u);
  constexpr int kBinds = 60;
  std::atomic<int> won{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kBinds; ++i) {
    threads.emplace_back([&, i] {
      Binding conflict;
      auto inserted = replicas[i % 3]->InsertActive(
          MakeBinding(absl::StrCat("team", i % 20), "1600000001", i), kBind, &conflict);
      if (inserted.ok()) {
        ++won;
      } else if (absl::IsAlreadyExists(inserted.status()) && conflict.row_id != 0) {
        ++refused;
      } else {
        ++other;
        ADD_FAILURE() << inserted.status();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(won, 1);
  EXPECT_EQ(refused, kBinds - 1);
  EXPECT_EQ(other, 0);
}

TEST(PostgresReplicasTest, SimultaneousCopiesOfAnEventOnTwoReplicasAreStoredOnce) {
  const std::string url = FreshPostgresDatabase();
  ASSERT_FALSE(url.empty());
  auto a = OpenPostgresStore(On(url));
  auto b = OpenPostgresStore(On(url));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto binding = a->InsertActive(MakeBinding("team", "1600000001"), kBind, nullptr);
  ASSERT_TRUE(binding.ok()) << binding.status();
  for (int round = 0; round < 20; ++round) {
    const std::string id = absl::StrCat("01EVENT", round);
    auto first = AppendAsync(*a, Batch(*binding, {Event(id)}));
    auto second = AppendAsync(*b, Batch(*binding, {Event(id)}));
    auto one = first.get();
    auto two = second.get();
    ASSERT_TRUE(one.ok()) << one.status();
    ASSERT_TRUE(two.ok()) << two.status();
    EXPECT_EQ(one->stored + two->stored, 1) << id;
    EXPECT_EQ(one->duplicates + two->duplicates, 1) << id;
  }
  auto events = a->ReadEvents({"team", "", 0, 1000});
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_THAT(OnlyWebhook(*events), SizeIs(20));
}

// The cursor's whole point: replica A's event gets its cursor first but commits after replica
// B's. A reader that took "id > cursor" would hand out B's event, move its cursor past A's, and
// never see A's. This reader waits until A commits and then hands out A's event before B's.
TEST(PostgresReplicasTest, AnEventThatCommitsLateIsNotSkipped) {
  // A cluster of its own: the transaction it holds open would hold back every other test's
  // events on a shared one.
  auto cluster = testing::PostgresCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto created = (*cluster)->CreateDatabase();
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string url = *created;
  auto a = OpenPostgresStore(On(url));
  auto b = OpenPostgresStore(On(url));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto x = a->InsertActive(MakeBinding("team", "1600000001"), kBind, nullptr);
  auto y = a->InsertActive(MakeBinding("team", "1600000002"), kBind, nullptr);
  ASSERT_TRUE(x.ok() && y.ok());

  // Holds an uncommitted activity row of binding x: A's statement stores its event (taking
  // its cursor), then waits for this row's fate before it can commit.
  std::unique_ptr<PgConnection> blocker = Connect(url);
  ASSERT_NE(blocker, nullptr);
  ASSERT_TRUE(blocker->Exec("BEGIN", "test").ok());
  ASSERT_TRUE(blocker
                  ->Exec("INSERT INTO webhook_activity (binding_row_id) VALUES ($1)",
                         PgParams().Int(x->row_id), "test")
                  .ok());
  auto late = AppendAsync(*a, Batch(*x, {Event("01LATE")}));
  std::unique_ptr<PgConnection> observer = Connect(url);
  ASSERT_NE(observer, nullptr);
  ASSERT_TRUE(Eventually([&] {
    auto waiting = observer->Exec(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
        "query LIKE '%INSERT INTO events%'",
        "test");
    return waiting.ok() && waiting->Int(0, 0) == 1;
  })) << "replica A's insert never started waiting";

  auto early = Append(*b, Batch(*y, {Event("01EARLY")}));
  ASSERT_TRUE(early.ok()) << early.status();
  ASSERT_EQ(early->stored, 1);

  // The hazard is real: B's event is committed and visible, with a cursor above A's.
  auto visible = observer->Exec(
      "SELECT webhook_event_id FROM events WHERE lifecycle IS NULL ORDER BY pos", "test");
  ASSERT_TRUE(visible.ok()) << visible.status();
  ASSERT_EQ(visible->rows(), 1);
  EXPECT_EQ(visible->Text(0, 0), "01EARLY");
  // ... but no replica hands it out yet.
  for (PostgresStore* store : {a.get(), b.get()}) {
    auto events = store->ReadEvents({"team", "", 0, 100});
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_THAT(OnlyWebhook(*events), IsEmpty());
  }

  ASSERT_TRUE(blocker->Exec("COMMIT", "test").ok());
  auto stored_late = late.get();
  ASSERT_TRUE(stored_late.ok()) << stored_late.status();
  EXPECT_EQ(stored_late->stored, 1);

  std::vector<StoredEvent> events;
  ASSERT_TRUE(Eventually([&] {
    auto read = b->ReadEvents({"team", "", 0, 100});
    if (read.ok()) events = OnlyWebhook(*std::move(read));
    return events.size() == 2;
  }));
  EXPECT_THAT(Ids(events), ElementsAre("01LATE", "01EARLY"));
  EXPECT_LT(events[0].cursor, events[1].cursor);
  auto after = a->ReadEvents({"team", "", events[1].cursor, 100});
  ASSERT_TRUE(after.ok());
  EXPECT_THAT(*after, IsEmpty());
}

TEST(PostgresReplicasTest, EventsOfEveryReplicaReadInOneOrderWithoutGapsOrRepeats) {
  const std::string url = FreshPostgresDatabase();
  ASSERT_FALSE(url.empty());
  std::vector<std::unique_ptr<PostgresStore>> replicas = OpenReplicas(url, 3);
  ASSERT_EQ(replicas.size(), 3u);
  auto binding = replicas[0]->InsertActive(MakeBinding("team", "1600000001"), kBind, nullptr);
  ASSERT_TRUE(binding.ok());
  constexpr int kPerReplica = 150;
  std::atomic<bool> writing{true};
  std::vector<std::thread> writers;
  for (int r = 0; r < 3; ++r) {
    writers.emplace_back([&, r] {
      std::vector<std::future<absl::StatusOr<AppendResult>>> pending;
      for (int i = 0; i < kPerReplica; ++i) {
        pending.push_back(
            AppendAsync(*replicas[r], Batch(*binding, {Event(absl::StrCat("r", r, "-", i))})));
      }
      for (auto& p : pending) EXPECT_TRUE(p.get().ok());
    });
  }
  // A reader resuming from its cursor on a different replica each time, while the writers run.
  std::vector<std::string> seen;
  int64_t cursor = 0;
  int turn = 0;
  std::thread stop_flag([&] {
    for (std::thread& w : writers) w.join();
    writing = false;
  });
  while (true) {
    const bool last_pass = !writing;
    auto page = replicas[turn++ % 3]->ReadEvents({"team", "", cursor, 7});
    ASSERT_TRUE(page.ok()) << page.status();
    for (const StoredEvent& e : *page) {
      EXPECT_GT(e.cursor, cursor);
      cursor = e.cursor;
      if (e.lifecycle) continue;  // The bind's.
      seen.push_back(*e.event.webhook_event_id);
    }
    if (last_pass && page->empty()) {
      if (static_cast<int>(seen.size()) >= 3 * kPerReplica) break;
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (static_cast<int>(seen.size()) > 3 * kPerReplica) break;
  }
  stop_flag.join();
  std::set<std::string> distinct(seen.begin(), seen.end());
  EXPECT_EQ(seen.size(), distinct.size()) << "an event was delivered twice";
  EXPECT_EQ(distinct.size(), 3u * kPerReplica) << "an event was skipped";
}

TEST(PostgresReplicasTest, OtherReplicasHearOfBindingChangesAndEvents) {
  const std::string url = FreshPostgresDatabase();
  ASSERT_FALSE(url.empty());
  absl::Mutex mu;
  std::vector<int64_t> changed;
  int64_t deliverable = 0;
  PostgresStore::Options options = On(url);
  options.on_change.binding_changed = [&](int64_t row_id) {
    absl::MutexLock lock(&mu);
    changed.push_back(row_id);
  };
  options.on_change.events_deliverable = [&](int64_t cursor) {
    absl::MutexLock lock(&mu);
    deliverable = std::max(deliverable, cursor);
  };
  std::atomic<bool> heard_listening{false};
  TellWhenListening(options, &heard_listening);
  auto listening = OpenPostgresStore(options);
  auto writer = OpenPostgresStore(On(url));
  ASSERT_NE(listening, nullptr);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(Eventually([&] { return heard_listening.load() && listening->reachable(); }));

  auto binding = writer->InsertActive(MakeBinding("team", "1600000001"), kBind, nullptr);
  ASSERT_TRUE(binding.ok());
  auto appended = Append(*writer, Batch(*binding, {Event("01A")}));
  ASSERT_TRUE(appended.ok());
  ASSERT_TRUE(writer->MarkUnbound("team", "1600000001", {"tester", kT0, "unbind"}).ok());
  EXPECT_TRUE(Eventually([&] {
    absl::MutexLock lock(&mu);
    return changed.size() >= 2 && deliverable >= appended->last_cursor;
  }));
  absl::MutexLock lock(&mu);
  EXPECT_THAT(changed, ElementsAre(binding->row_id, binding->row_id));
}

// Each replica's cache keeps a binding's check record with the binding, so a saved record is
// announced as a change of its binding.
TEST(PostgresReplicasTest, OtherReplicasHearOfASavedCheckRecord) {
  const std::string url = FreshPostgresDatabase();
  ASSERT_FALSE(url.empty());
  absl::Mutex mu;
  std::vector<int64_t> changed;
  PostgresStore::Options options = On(url);
  options.on_change.binding_changed = [&](int64_t row_id) {
    absl::MutexLock lock(&mu);
    changed.push_back(row_id);
  };
  std::atomic<bool> heard_listening{false};
  TellWhenListening(options, &heard_listening);
  auto listening = OpenPostgresStore(options);
  auto writer = OpenPostgresStore(On(url));
  ASSERT_NE(listening, nullptr);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(Eventually([&] { return heard_listening.load() && listening->reachable(); }));
  auto binding = writer->InsertActive(MakeBinding("team", "1600000002"), kBind, nullptr);
  ASSERT_TRUE(binding.ok());
  ASSERT_TRUE(Eventually([&] {
    absl::MutexLock lock(&mu);
    return changed.size() >= 1;
  }));

  ASSERT_TRUE(writer->SaveCheckRecord(binding->row_id, {kT0, "checked"}).ok());
  EXPECT_TRUE(Eventually([&] {
    absl::MutexLock lock(&mu);
    return changed.size() >= 2;
  }));
  absl::MutexLock lock(&mu);
  EXPECT_THAT(changed, ElementsAre(binding->row_id, binding->row_id));
}

TEST(PostgresReplicasTest, ReplicasStartingTogetherMigrateOnce) {
  const std::string url = FreshPostgresDatabase();
  ASSERT_FALSE(url.empty());
  std::vector<std::future<absl::StatusOr<std::unique_ptr<PostgresStore>>>> opening;
  for (int i = 0; i < 4; ++i) {
    opening.push_back(std::async(std::launch::async, [&] { return PostgresStore::Open(On(url)); }));
  }
  for (auto& o : opening) {
    auto store = o.get();
    EXPECT_TRUE(store.ok()) << store.status();
  }
  auto db = Connect(url);
  ASSERT_NE(db, nullptr);
  auto version = db->Exec("SELECT version FROM channeld_schema", "test");
  ASSERT_TRUE(version.ok());
  ASSERT_EQ(version->rows(), 1);
  EXPECT_EQ(version->Int(0, 0), CurrentPostgresSchemaVersion());
}

TEST(PostgresReplicasTest, RefusesADatabaseOfAnotherProgramOrANewerBuild) {
  const std::string foreign = FreshPostgresDatabase();
  ASSERT_FALSE(foreign.empty());
  auto db = Connect(foreign);
  ASSERT_TRUE(db->Exec("CREATE TABLE customers (id int)", "test").ok());
  auto refused = PostgresStore::Open(On(foreign));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("some other program"));

  const std::string newer = FreshPostgresDatabase();
  ASSERT_NE(OpenPostgresStore(On(newer)), nullptr);
  auto newer_db = Connect(newer);
  ASSERT_TRUE(newer_db->Exec("UPDATE channeld_schema SET version = version + 1", "test").ok());
  refused = PostgresStore::Open(On(newer));
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_THAT(refused.status().message(), ::testing::HasSubstr("run a newer channeld"));
}

TEST(PostgresReplicasTest, UnreachableServerIsUnavailable) {
  auto store = PostgresStore::Open(On("postgresql://channeld@/none?host=/nonexistent-dir"));
  EXPECT_TRUE(absl::IsUnavailable(store.status())) << store.status();
  EXPECT_THAT(store.status().message(), ::testing::HasSubstr("connecting to PostgreSQL"));
}

TEST(PostgresReplicasTest, AMalformedUrlIsRefusedWithoutQuotingIt) {
  auto store = PostgresStore::Open(On("host=/tmp password=hunter2 sslmode"));
  EXPECT_TRUE(absl::IsInvalidArgument(store.status())) << store.status();
  EXPECT_THAT(store.status().message(), ::testing::Not(::testing::HasSubstr("hunter2")));
  EXPECT_THAT(store.status().message(), ::testing::HasSubstr("not a libpq connection URI"));
}

// PostgreSQL stops during ingest: writes fail UNAVAILABLE (never OK) while it is down, and the
// same store works again once it is back, without being reopened.
TEST(PostgresReplicasTest, RecoversByItselfWhenPostgresReturns) {
  auto cluster = testing::PostgresCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto url = (*cluster)->CreateDatabase();
  ASSERT_TRUE(url.ok()) << url.status();
  std::atomic<int> missed{0};
  PostgresStore::Options options = On(*url);
  options.on_change.changes_missed = [&] { ++missed; };
  auto store = OpenPostgresStore(options);
  ASSERT_NE(store, nullptr);
  auto binding = store->InsertActive(MakeBinding("team", "1600000001"), kBind, nullptr);
  ASSERT_TRUE(binding.ok());
  ASSERT_TRUE(Append(*store, Batch(*binding, {Event("01BEFORE")})).ok());
  ASSERT_TRUE(Eventually([&] { return store->reachable(); }));

  ASSERT_TRUE((*cluster)->Stop().ok());
  const int missed_before = missed;
  auto down = Append(*store, Batch(*binding, {Event("01DOWN")}));
  EXPECT_TRUE(absl::IsUnavailable(down.status())) << down.status();
  EXPECT_TRUE(absl::IsUnavailable(store->FindActive("team", "1600000001").status()));
  EXPECT_TRUE(Eventually([&] { return !store->reachable(); }));
  // The cache is told to forget everything while notifications cannot arrive.
  EXPECT_TRUE(Eventually([&] { return missed > missed_before; }));

  ASSERT_TRUE((*cluster)->StartAgain().ok());
  EXPECT_TRUE(Eventually([&] { return Append(*store, Batch(*binding, {Event("01AFTER")})).ok(); }));
  EXPECT_TRUE(Eventually([&] { return store->reachable(); }));
  auto found = store->FindActive("team", "1600000001");
  EXPECT_TRUE(found.ok()) << found.status();
  std::vector<StoredEvent> events;
  ASSERT_TRUE(Eventually([&] {
    auto read = store->ReadEvents({"team", "", 0, 100});
    if (read.ok()) events = OnlyWebhook(*std::move(read));
    return events.size() == 2;
  }));
  EXPECT_THAT(Ids(events), ElementsAre("01BEFORE", "01AFTER"));
}

TEST(PostgresReplicasTest, TestCallQuotaHoldsAcrossReplicas) {
  const std::string url = FreshPostgresDatabase();
  ASSERT_FALSE(url.empty());
  std::vector<std::unique_ptr<PostgresStore>> replicas = OpenReplicas(url, 3);
  ASSERT_EQ(replicas.size(), 3u);
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 30; ++i) {
    threads.emplace_back([&, i] {
      auto took = replicas[i % 3]->TakeLineTestCall("1600000001", kT0, absl::Hours(1), 10);
      ASSERT_TRUE(took.ok()) << took.status();
      if (*took) ++taken;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(taken, 10);
}

// A push of `binding_row_id` due at kT0 and not leased then.
PushRecord DuePush(int64_t binding_row_id, const std::string& request_id) {
  PushRecord p = MakePush(binding_row_id, request_id, kT0 - absl::Minutes(1));
  p.lease_until = p.accepted_at;
  return p;
}

// Three replicas on a fresh database, with one binding.
class PushReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string url = FreshPostgresDatabase();
    ASSERT_FALSE(url.empty());
    replicas_ = OpenReplicas(url, 3);
    ASSERT_EQ(replicas_.size(), 3u);
    auto inserted = replicas_[0]->InsertActive(MakeBinding("team", "1600000001"), kBind, nullptr);
    ASSERT_TRUE(inserted.ok()) << inserted.status();
    binding_ = *std::move(inserted);
  }

  std::vector<std::unique_ptr<PostgresStore>> replicas_;
  Binding binding_;
};

TEST_F(PushReplicasTest, EveryDuePushIsLeasedToExactlyOneReplica) {
  constexpr int kPushes = 200;
  for (int i = 0; i < kPushes; ++i) {
    auto admitted = replicas_[i % 3]->Admit(DuePush(binding_.row_id, absl::StrCat("r", i)));
    ASSERT_TRUE(admitted.ok()) << admitted.status();
    ASSERT_TRUE(admitted->created);
  }
  // Two senders per replica, each leasing small batches until none is left for it.
  absl::Mutex mu;
  std::vector<int64_t> leased;
  std::vector<std::thread> senders;
  for (int i = 0; i < 6; ++i) {
    senders.emplace_back([&, i] {
      while (true) {
        auto batch = replicas_[i % 3]->LeaseDue(kT0, kT0 + absl::Minutes(5), 3);
        ASSERT_TRUE(batch.ok()) << batch.status();
        if (batch->empty()) return;
        absl::MutexLock lock(&mu);
        for (const PushRecord& p : *batch) leased.push_back(p.id);
      }
    });
  }
  for (std::thread& t : senders) t.join();
  std::set<int64_t> distinct(leased.begin(), leased.end());
  EXPECT_EQ(leased.size(), distinct.size()) << "a push was leased twice";
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kPushes)) << "a due push was not leased";
  for (const auto& replica : replicas_) {
    auto again = replica->LeaseDue(kT0 + absl::Minutes(1), kT0 + absl::Minutes(5), 10);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_THAT(*again, IsEmpty());
  }
}

TEST_F(PushReplicasTest, ConcurrentAdmissionsOverThreeReplicasCreateOnePush) {
  constexpr int kAdmissions = 30;
  std::atomic<int> created{0};
  absl::Mutex mu;
  std::set<int64_t> ids;
  std::vector<std::thread> threads;
  for (int i = 0; i < kAdmissions; ++i) {
    threads.emplace_back([&, i] {
      PushRecord push = DuePush(binding_.row_id, "r1");
      push.request_digest = absl::StrCat("digest-", i);
      auto admitted = replicas_[i % 3]->Admit(push);
      ASSERT_TRUE(admitted.ok()) << admitted.status();
      if (admitted->created) ++created;
      absl::MutexLock lock(&mu);
      ids.insert(admitted->push.id);
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(created, 1);
  EXPECT_THAT(ids, SizeIs(1));
}

}  // namespace
}  // namespace linechannel::storage
