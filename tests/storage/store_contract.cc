#include "tests/storage/store_contract.h"

#include <atomic>
#include <future>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "tests/storage/make_binding.h"

namespace linechannel::storage {

std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

void StoreContractTest::SetUp() {
  owner_ = GetParam().make(dir_.path());
  ASSERT_NE(owner_, nullptr) << "could not make a " << GetParam().name << " store";
  store_ = owner_->roles();
}

void StoreContractTest::TearDown() { owner_.reset(); }

namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

// The default time of StoreContractTest::Append.
const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

NewEvent Event(const std::string& id) {
  NewEvent e;
  if (!id.empty()) e.webhook_event_id = id;
  e.type = "message";
  e.timestamp_ms = 1700000000000;
  e.mode = "active";
  e.source_type = "user";
  e.source_user_id = "Uuser";
  e.raw_json = absl::StrCat(R"({"type":"message","webhookEventId":")", id, R"("})");
  return e;
}

}  // namespace

absl::StatusOr<Binding> StoreContractTest::Insert(const Binding& b, Binding* conflict) {
  return store_.bindings->InsertActive(b, {"tester", kT0, "bind"}, conflict);
}

absl::StatusOr<AppendResult> StoreContractTest::Append(const Binding& b,
                                                       std::vector<NewEvent> events,
                                                       absl::Time at) {
  std::promise<absl::StatusOr<AppendResult>> promise;
  store_.events->AppendEvents({b.row_id, b.team_id, b.channel_id, at, std::move(events)},
                              [&](absl::StatusOr<AppendResult> r) { promise.set_value(r); });
  return promise.get_future().get();
}

absl::Status StoreContractTest::Trouble(const Binding& b, WebhookTrouble trouble, absl::Time at) {
  std::promise<absl::Status> promise;
  store_.events->RecordTrouble(b.row_id, trouble, at,
                               [&](absl::Status s) { promise.set_value(s); });
  return promise.get_future().get();
}

std::vector<StoredEvent> StoreContractTest::Read(const std::string& team,
                                                 const std::string& channel, int64_t after,
                                                 int limit) {
  absl::StatusOr<std::vector<StoredEvent>> events =
      store_.events->ReadEvents({team, channel, after, limit});
  EXPECT_TRUE(events.ok()) << events.status();
  return events.ok() ? *events : std::vector<StoredEvent>();
}

namespace {

// --- BindingStore -------------------------------------------------------------------------

TEST_P(StoreContractTest, AnInsertedBindingIsFoundByTeamAndChannelAndByWebhookKey) {
  absl::StatusOr<Binding> stored = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_GT(stored->row_id, 0);
  EXPECT_TRUE(stored->active());

  absl::StatusOr<Binding> found = store_.bindings->FindActive("t1", "100");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->row_id, stored->row_id);
  EXPECT_EQ(found->binding_id, "id-t1-100-0");
  EXPECT_EQ(found->app_name, "App 100");
  EXPECT_EQ(found->line_id, "line100");
  EXPECT_EQ(found->bot_user_id, "U100");
  EXPECT_EQ(found->bot_display_name, "Bot 100");
  EXPECT_EQ(found->channel_secret, (SealedValue{"k1", std::string("\x01sealed-secret\0x", 16)}));
  EXPECT_EQ(found->access_token, (SealedValue{"k1", "\x01sealed-token"}));
  EXPECT_EQ(found->channel_secret_hint, "…cdef");
  EXPECT_EQ(found->access_token_hint, "…n123");
  EXPECT_TRUE(found->verified_with_line);
  EXPECT_EQ(found->bound_at, kT0);
  EXPECT_EQ(found->bound_by, "tester");
  EXPECT_EQ(found->credentials_updated_at, kT0);
  EXPECT_TRUE(found->active());
  EXPECT_THAT(found->attention_reasons, IsEmpty());
  EXPECT_FALSE(found->checked_at.has_value());
  EXPECT_FALSE(found->activity.last_signed_request.has_value());

  absl::StatusOr<Binding> by_key = store_.bindings->FindActiveByWebhookKey("key-t1-100-0");
  ASSERT_TRUE(by_key.ok()) << by_key.status();
  EXPECT_EQ(by_key->row_id, stored->row_id);
  EXPECT_EQ(by_key->team_id, "t1");

  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActive("t2", "100").status()));
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActive("t1", "999").status()));
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActiveByWebhookKey("nope").status()));
}

TEST_P(StoreContractTest, AnOaHasOneActiveBindingByChannelIdLineIdAndBotUser) {
  ASSERT_TRUE(Insert(MakeBinding("t1", "100")).ok());

  Binding conflict;
  absl::StatusOr<Binding> same_channel = Insert(MakeBinding("t2", "100"), &conflict);
  EXPECT_TRUE(absl::IsAlreadyExists(same_channel.status())) << same_channel.status();
  EXPECT_EQ(conflict.team_id, "t1");
  EXPECT_EQ(conflict.channel_id, "100");
  EXPECT_GT(conflict.row_id, 0);

  Binding same_line = MakeBinding("t2", "200");
  same_line.line_id = "line100";
  conflict = {};
  EXPECT_TRUE(absl::IsAlreadyExists(Insert(same_line, &conflict).status()));
  EXPECT_EQ(conflict.channel_id, "100");
  EXPECT_EQ(conflict.team_id, "t1");

  Binding same_bot = MakeBinding("t2", "300");
  same_bot.bot_user_id = "U100";
  conflict = {};
  EXPECT_TRUE(absl::IsAlreadyExists(Insert(same_bot, &conflict).status()));
  EXPECT_EQ(conflict.channel_id, "100");

  // A null `conflict` is allowed.
  EXPECT_TRUE(absl::IsAlreadyExists(Insert(MakeBinding("t3", "100")).status()));

  // Nothing of the refused inserts was written.
  absl::StatusOr<BindingPage> page = store_.bindings->ListTeam("t2", true, 0, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(page->bindings, IsEmpty());
}

TEST_P(StoreContractTest, UnknownBotUsersDoNotCollide) {
  Binding a = MakeBinding("t1", "100");
  a.bot_user_id.clear();
  Binding b = MakeBinding("t1", "200");
  b.bot_user_id.clear();
  ASSERT_TRUE(Insert(a).ok());
  ASSERT_TRUE(Insert(b).ok());
  absl::StatusOr<Binding> found = store_.bindings->FindActive("t1", "200");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->bot_user_id, "");
}

TEST_P(StoreContractTest, WebhookKeysAreNeverReusedAndNoActiveBindingIsNamedForThem) {
  absl::StatusOr<Binding> first = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(first.ok());
  Binding reuse = MakeBinding("t2", "200", 1);
  reuse.webhook_key = first->webhook_key;
  Binding conflict;
  EXPECT_TRUE(absl::IsAlreadyExists(Insert(reuse, &conflict).status()));
  EXPECT_EQ(conflict.row_id, 0);

  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "100", {"op", kT0, ""}).ok());
  conflict = MakeBinding("x", "x");
  EXPECT_TRUE(absl::IsAlreadyExists(Insert(reuse, &conflict).status()));
  EXPECT_EQ(conflict.row_id, 0);
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActive("t2", "200").status()));
}

TEST_P(StoreContractTest, UnbindKeepsHistoryAndFreesTheOa) {
  absl::StatusOr<Binding> first = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(first.ok());
  absl::StatusOr<Binding> unbound =
      store_.bindings->MarkUnbound("t1", "100", {"op", kT0 + absl::Hours(1), ""});
  ASSERT_TRUE(unbound.ok()) << unbound.status();
  EXPECT_EQ(unbound->row_id, first->row_id);
  EXPECT_FALSE(unbound->active());
  EXPECT_EQ(*unbound->unbound_at, kT0 + absl::Hours(1));
  EXPECT_EQ(unbound->unbound_by, "op");

  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActive("t1", "100").status()));
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActiveByWebhookKey("key-t1-100-0").status()));
  EXPECT_TRUE(
      absl::IsNotFound(store_.bindings->MarkUnbound("t1", "100", {"op", kT0, ""}).status()));

  absl::StatusOr<Binding> second = Insert(MakeBinding("t2", "100", 1));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(second->row_id, first->row_id);
  EXPECT_EQ(store_.bindings->FindActive("t2", "100")->row_id, second->row_id);
}

TEST_P(StoreContractTest, UnbindOfAnotherTeamsBindingIsNotFound) {
  ASSERT_TRUE(Insert(MakeBinding("t1", "100")).ok());
  EXPECT_TRUE(
      absl::IsNotFound(store_.bindings->MarkUnbound("t2", "100", {"op", kT0, ""}).status()));
  EXPECT_TRUE(store_.bindings->FindActive("t1", "100").ok());
}

TEST_P(StoreContractTest, ListTeamPagesNewestFirstAndIncludesUnboundOnlyWhenAsked) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Insert(MakeBinding("t1", absl::StrCat(100 + i))).ok());
  ASSERT_TRUE(Insert(MakeBinding("t2", "900")).ok());
  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "102", {"op", kT0, ""}).ok());

  const auto list = [&](bool include_unbound, int limit, int* pages) {
    std::vector<std::string> seen;
    int64_t after = 0;
    *pages = 0;
    do {
      absl::StatusOr<BindingPage> page =
          store_.bindings->ListTeam("t1", include_unbound, after, limit);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const Binding& b : page->bindings) seen.push_back(b.channel_id);
      after = page->next_after_row_id;
      ++*pages;
    } while (after != 0 && *pages < 100);
    return seen;
  };
  int pages = 0;
  EXPECT_THAT(list(true, 2, &pages), ElementsAre("104", "103", "102", "101", "100"));
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(list(false, 2, &pages), ElementsAre("104", "103", "101", "100"));
  EXPECT_EQ(pages, 2);
  EXPECT_THAT(list(false, 10, &pages), ElementsAre("104", "103", "101", "100"));
  EXPECT_EQ(pages, 1);

  absl::StatusOr<BindingPage> none = store_.bindings->ListTeam("t3", true, 0, 10);
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(none->bindings, IsEmpty());
  EXPECT_EQ(none->next_after_row_id, 0);
  EXPECT_TRUE(absl::IsInvalidArgument(store_.bindings->ListTeam("t1", false, 0, 0).status()));
}

TEST_P(StoreContractTest, ReplaceCredentialsChangesOnlyTheGivenValuesOfAnActiveBinding) {
  absl::StatusOr<Binding> stored = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(stored.ok());
  CredentialUpdate update;
  update.access_token = SealedValue{"k2", "new-token"};
  update.access_token_hint = "…9999";
  absl::StatusOr<Binding> updated = store_.bindings->ReplaceCredentials(
      stored->row_id, update, {"op2", kT0 + absl::Minutes(1), "token"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->access_token, (SealedValue{"k2", "new-token"}));
  EXPECT_EQ(updated->access_token_hint, "…9999");
  EXPECT_EQ(updated->channel_secret, stored->channel_secret);
  EXPECT_EQ(updated->channel_secret_hint, stored->channel_secret_hint);
  EXPECT_EQ(updated->credentials_updated_at, kT0 + absl::Minutes(1));

  absl::StatusOr<Binding> found = store_.bindings->FindActiveByWebhookKey(stored->webhook_key);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->access_token, (SealedValue{"k2", "new-token"}));

  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "100", {"op3", kT0, ""}).ok());
  EXPECT_TRUE(absl::IsNotFound(
      store_.bindings->ReplaceCredentials(stored->row_id, update, {"op", kT0, ""}).status()));
}

TEST_P(StoreContractTest, EveryChangeWritesOneAuditRowInOrder) {
  absl::StatusOr<Binding> stored = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(stored.ok());
  CredentialUpdate update;
  update.channel_secret = SealedValue{"k2", "new-secret"};
  update.channel_secret_hint = "…0000";
  ASSERT_TRUE(store_.bindings
                  ->ReplaceCredentials(stored->row_id, update,
                                       {"op2", kT0 + absl::Minutes(1), "channel_secret"})
                  .ok());
  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "100", {"op3", kT0 + absl::Minutes(2), ""}).ok());
  // A refused change writes nothing.
  EXPECT_FALSE(store_.bindings->ReplaceCredentials(stored->row_id, update, {"op4", kT0, ""}).ok());

  absl::StatusOr<std::vector<AuditRecord>> audit = store_.bindings->ListAudit(stored->row_id);
  ASSERT_TRUE(audit.ok()) << audit.status();
  EXPECT_THAT(
      *audit,
      ElementsAre(
          AllOf(Field(&AuditRecord::action, "bind"), Field(&AuditRecord::actor, "tester"),
                Field(&AuditRecord::detail, "bind"), Field(&AuditRecord::at, kT0)),
          AllOf(Field(&AuditRecord::action, "update_credentials"),
                Field(&AuditRecord::actor, "op2"), Field(&AuditRecord::detail, "channel_secret"),
                Field(&AuditRecord::at, kT0 + absl::Minutes(1))),
          AllOf(Field(&AuditRecord::action, "unbind"), Field(&AuditRecord::actor, "op3"),
                Field(&AuditRecord::at, kT0 + absl::Minutes(2)))));
  for (const AuditRecord& record : *audit) {
    EXPECT_EQ(record.binding_row_id, stored->row_id);
    EXPECT_EQ(record.team_id, "t1");
    EXPECT_EQ(record.channel_id, "100");
  }
  EXPECT_LT((*audit)[0].id, (*audit)[1].id);
  EXPECT_LT((*audit)[1].id, (*audit)[2].id);
}

TEST_P(StoreContractTest, SetAttentionReplacesTheFindingsOfAnActiveBinding) {
  absl::StatusOr<Binding> stored = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(store_.bindings->SetAttention(stored->row_id, {"a", "b"}, kT0 + absl::Hours(1)).ok());
  absl::StatusOr<Binding> found = store_.bindings->FindActive("t1", "100");
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(found->attention_reasons, ElementsAre("a", "b"));
  EXPECT_EQ(found->checked_at, kT0 + absl::Hours(1));

  ASSERT_TRUE(store_.bindings->SetAttention(stored->row_id, {}, kT0 + absl::Hours(2)).ok());
  found = store_.bindings->FindActiveByWebhookKey(stored->webhook_key);
  ASSERT_TRUE(found.ok());
  EXPECT_THAT(found->attention_reasons, IsEmpty());
  EXPECT_EQ(found->checked_at, kT0 + absl::Hours(2));

  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "100", {"op", kT0, ""}).ok());
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->SetAttention(stored->row_id, {"c"}, kT0)));
}

TEST_P(StoreContractTest, ListActiveGoesOverActiveBindingsInRowOrder) {
  std::vector<int64_t> rows;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<Binding> b =
        Insert(MakeBinding(absl::StrCat("t", i % 2), absl::StrCat(100 + i)));
    ASSERT_TRUE(b.ok());
    rows.push_back(b->row_id);
  }
  ASSERT_TRUE(store_.bindings->MarkUnbound("t0", "102", {"op", kT0, ""}).ok());
  std::vector<std::string> seen;
  int64_t after = 0;
  while (true) {
    absl::StatusOr<std::vector<Binding>> batch = store_.bindings->ListActive(after, 2);
    ASSERT_TRUE(batch.ok()) << batch.status();
    if (batch->empty()) break;
    EXPECT_LE(batch->size(), 2u);
    for (const Binding& b : *batch) {
      EXPECT_GT(b.row_id, after);
      after = b.row_id;
      seen.push_back(b.channel_id);
    }
  }
  EXPECT_THAT(seen, ElementsAre("100", "101", "103", "104"));
}

TEST_P(StoreContractTest, ConcurrentInsertsOfOneOaHaveExactlyOneWinner) {
  constexpr int kThreads = 16;
  std::atomic<int> won{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<Binding> result = Insert(MakeBinding(absl::StrCat("team", i), "555", i));
      if (result.ok()) {
        ++won;
      } else if (absl::IsAlreadyExists(result.status())) {
        ++refused;
      } else {
        ++other;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(won, 1);
  EXPECT_EQ(refused, kThreads - 1);
  EXPECT_EQ(other, 0);
}

// --- SealedValueStore ---------------------------------------------------------------------

TEST_P(StoreContractTest, SamplesOneSealedValuePerKeyAndField) {
  absl::StatusOr<std::vector<SealedSample>> empty = store_.sealed->SampleSealedValues();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_THAT(*empty, IsEmpty());

  ASSERT_TRUE(Insert(MakeBinding("t1", "100")).ok());
  Binding other_key = MakeBinding("t1", "200");
  other_key.channel_secret = {"k2", "sealed-under-k2"};
  ASSERT_TRUE(Insert(other_key).ok());
  ASSERT_TRUE(Insert(MakeBinding("t1", "300")).ok());
  absl::StatusOr<std::vector<SealedSample>> samples = store_.sealed->SampleSealedValues();
  ASSERT_TRUE(samples.ok()) << samples.status();
  std::vector<std::string> seen;
  for (const SealedSample& s : *samples) {
    seen.push_back(absl::StrCat(s.field, "/", s.value.key_id));
    absl::StatusOr<Binding> holder = store_.bindings->FindActive("t1", s.channel_id);
    ASSERT_TRUE(holder.ok()) << s.channel_id;
    EXPECT_EQ(s.value, s.field == "channel_secret" ? holder->channel_secret : holder->access_token);
  }
  EXPECT_THAT(seen,
              UnorderedElementsAre("channel_secret/k1", "channel_secret/k2", "access_token/k1"));
}

TEST_P(StoreContractTest, ListSealedPagesOverEveryBindingInRowOrder) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Insert(MakeBinding("t1", absl::StrCat(100 + i))).ok());
  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "101", {"op", kT0, ""}).ok());
  std::vector<std::string> seen;
  int64_t after = 0;
  while (true) {
    absl::StatusOr<std::vector<SealedRow>> rows = store_.sealed->ListSealed(after, 2);
    ASSERT_TRUE(rows.ok()) << rows.status();
    if (rows->empty()) break;
    EXPECT_LE(rows->size(), 2u);
    for (const SealedRow& row : *rows) {
      EXPECT_GT(row.row_id, after);
      after = row.row_id;
      seen.push_back(row.channel_id);
      EXPECT_EQ(row.channel_secret.key_id, "k1");
      EXPECT_EQ(row.access_token, (SealedValue{"k1", "\x01sealed-token"}));
    }
  }
  EXPECT_THAT(seen, ElementsAre("100", "101", "102", "103", "104"));
}

TEST_P(StoreContractTest, ReplaceSealedReplacesOnlyValuesStillUnchanged) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "200"));
  ASSERT_TRUE(a.ok() && b.ok());
  // b's token changes after the rotation read it: the rotation must not overwrite it.
  CredentialUpdate update;
  update.access_token = SealedValue{"k1", "reissued-token"};
  update.access_token_hint = "…7777";
  ASSERT_TRUE(store_.bindings->ReplaceCredentials(b->row_id, update, {"op", kT0, "token"}).ok());

  const SealedValue new_secret_a{"k2", "a-secret-k2"};
  const SealedValue new_token_a{"k2", "a-token-k2"};
  const SealedValue new_token_b{"k2", "b-token-k2"};
  absl::StatusOr<int> replaced = store_.sealed->ReplaceSealed({
      {a->row_id, true, a->channel_secret, new_secret_a},
      {a->row_id, false, a->access_token, new_token_a},
      {b->row_id, false, b->access_token, new_token_b},
  });
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(*replaced, 2);

  absl::StatusOr<Binding> found_a = store_.bindings->FindActive("t1", "100");
  ASSERT_TRUE(found_a.ok());
  EXPECT_EQ(found_a->channel_secret, new_secret_a);
  EXPECT_EQ(found_a->access_token, new_token_a);
  EXPECT_EQ(store_.bindings->FindActiveByWebhookKey(a->webhook_key)->channel_secret, new_secret_a);
  absl::StatusOr<Binding> found_b = store_.bindings->FindActive("t1", "200");
  ASSERT_TRUE(found_b.ok());
  EXPECT_EQ(found_b->access_token, (SealedValue{"k1", "reissued-token"}));
  EXPECT_EQ(found_b->channel_secret, b->channel_secret);

  // Replacing again with the old values as `old_value` changes nothing.
  replaced = store_.sealed->ReplaceSealed({{a->row_id, true, a->channel_secret, new_secret_a}});
  ASSERT_TRUE(replaced.ok());
  EXPECT_EQ(*replaced, 0);
}

TEST_P(StoreContractTest, CountsSealedValuesByKeyOverEveryBinding) {
  absl::StatusOr<std::map<std::string, int64_t>> empty = store_.sealed->CountSealedByKey();
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_THAT(*empty, IsEmpty());

  ASSERT_TRUE(Insert(MakeBinding("t1", "100")).ok());
  Binding mixed = MakeBinding("t1", "200");
  mixed.access_token = {"k2", "token-k2"};
  ASSERT_TRUE(Insert(mixed).ok());
  ASSERT_TRUE(Insert(MakeBinding("t1", "300")).ok());
  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "300", {"op", kT0, ""}).ok());
  absl::StatusOr<std::map<std::string, int64_t>> counts = store_.sealed->CountSealedByKey();
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(*counts, (std::map<std::string, int64_t>{{"k1", 5}, {"k2", 1}}));
}

// --- CheckStore ---------------------------------------------------------------------------

TEST_P(StoreContractTest, KeepsTheLastCheckRecordOfEachBinding) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "200"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(absl::IsNotFound(store_.checks->LastCheckRecord(a->row_id).status()));

  ASSERT_TRUE(store_.checks->SaveCheckRecord(a->row_id, {kT0, std::string("first\0", 6)}).ok());
  ASSERT_TRUE(store_.checks->SaveCheckRecord(a->row_id, {kT0 + absl::Hours(1), "second"}).ok());
  absl::StatusOr<CheckRecord> last = store_.checks->LastCheckRecord(a->row_id);
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->checked_at, kT0 + absl::Hours(1));
  EXPECT_EQ(last->result, "second");
  EXPECT_TRUE(absl::IsNotFound(store_.checks->LastCheckRecord(b->row_id).status()));

  ASSERT_TRUE(store_.checks->SaveCheckRecord(b->row_id, {kT0, std::string("bin\0ary", 7)}).ok());
  EXPECT_EQ(store_.checks->LastCheckRecord(b->row_id)->result, std::string("bin\0ary", 7));
}

TEST_P(StoreContractTest, TakeLineTestCallKeepsToTheLimitWithinTheWindowPerChannel) {
  const absl::Duration hour = absl::Hours(1);
  const auto take = [&](const std::string& channel, absl::Time at) {
    absl::StatusOr<bool> taken = store_.checks->TakeLineTestCall(channel, at, hour, 2);
    EXPECT_TRUE(taken.ok()) << taken.status();
    return taken.ok() && *taken;
  };
  EXPECT_TRUE(take("100", kT0));
  EXPECT_TRUE(take("100", kT0 + absl::Minutes(1)));
  EXPECT_FALSE(take("100", kT0 + absl::Minutes(2)));
  EXPECT_TRUE(take("200", kT0 + absl::Minutes(2)));  // Another channel has its own budget.
  // The first call leaves the window; a refused call took nothing.
  EXPECT_TRUE(take("100", kT0 + hour + absl::Seconds(1)));
  EXPECT_FALSE(take("100", kT0 + hour + absl::Seconds(2)));
  EXPECT_TRUE(take("100", kT0 + hour + absl::Minutes(2)));
}

TEST_P(StoreContractTest, ConcurrentTestCallsNeverExceedTheLimitTogether) {
  constexpr int kThreads = 16;
  constexpr int kLimit = 5;
  std::atomic<int> taken{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<bool> took = store_.checks->TakeLineTestCall(
          "100", kT0 + absl::Milliseconds(i), absl::Hours(1), kLimit);
      if (!took.ok()) {
        ++failed;
      } else if (*took) {
        ++taken;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(taken, kLimit);
}

// --- EventStore ---------------------------------------------------------------------------

TEST_P(StoreContractTest, StoresABatchAndReadsItBackInOrder) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(a.ok());
  NewEvent second = Event("e2");
  second.type = "follow";
  second.redelivery = true;
  second.source_type = "group";
  second.source_group_id = "Cgroup";
  absl::StatusOr<AppendResult> result = Append(*a, {Event("e1"), second}, kT0);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stored, 2);
  EXPECT_EQ(result->duplicates, 0);

  const std::vector<StoredEvent> events = Read("t1");
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_LT(events[0].cursor, events[1].cursor);
  EXPECT_EQ(result->last_cursor, events[1].cursor);
  EXPECT_EQ(events[0].binding_id, a->binding_id);
  EXPECT_EQ(events[0].team_id, "t1");
  EXPECT_EQ(events[0].channel_id, "100");
  EXPECT_EQ(events[0].received_at, kT0);
  EXPECT_EQ(events[0].event.webhook_event_id, "e1");
  EXPECT_EQ(events[0].event.raw_json, Event("e1").raw_json);
  EXPECT_EQ(events[0].event.timestamp_ms, 1700000000000);
  EXPECT_EQ(events[0].event.mode, "active");
  EXPECT_EQ(events[0].event.source_user_id, "Uuser");
  EXPECT_EQ(events[1].event.type, "follow");
  EXPECT_TRUE(events[1].event.redelivery);
  EXPECT_EQ(events[1].event.source_type, "group");
  EXPECT_EQ(events[1].event.source_group_id, "Cgroup");
}

TEST_P(StoreContractTest, EventsAreDeduplicatedPerOaByWebhookEventId) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  absl::StatusOr<Binding> b = Insert(MakeBinding("t2", "200"));
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(Append(*a, {Event("e1")})->stored, 1);
  NewEvent redelivered = Event("e1");
  redelivered.redelivery = true;
  absl::StatusOr<AppendResult> again = Append(*a, {redelivered, Event("e2"), Event("e2")});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->stored, 1);
  EXPECT_EQ(again->duplicates, 2);
  EXPECT_THAT(Read("t1"), SizeIs(2));
  // The same id for another OA is another event; events without ids are never duplicates.
  EXPECT_EQ(Append(*b, {Event("e1")})->stored, 1);
  EXPECT_EQ(Append(*a, {Event(""), Event("")})->stored, 2);
  EXPECT_THAT(Read("t1"), SizeIs(4));
}

TEST_P(StoreContractTest, SimultaneousCopiesOfAnEventStoreItOnce) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(a.ok());
  constexpr int kCopies = 8;
  std::vector<std::promise<absl::StatusOr<AppendResult>>> promises(kCopies);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCopies; ++i) {
    threads.emplace_back([&, i] {
      store_.events->AppendEvents(
          {a->row_id, "t1", "100", kT0, {Event("same")}},
          [&, i](absl::StatusOr<AppendResult> r) { promises[i].set_value(r); });
    });
  }
  int stored = 0;
  int duplicates = 0;
  for (auto& p : promises) {
    absl::StatusOr<AppendResult> r = p.get_future().get();
    ASSERT_TRUE(r.ok()) << r.status();
    stored += r->stored;
    duplicates += r->duplicates;
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(stored, 1);
  EXPECT_EQ(duplicates, kCopies - 1);
}

TEST_P(StoreContractTest, ReadsFollowTheCursorWithinTheTeamAndOptionallyAChannel) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  absl::StatusOr<Binding> a2 = Insert(MakeBinding("t1", "300"));
  absl::StatusOr<Binding> b = Insert(MakeBinding("t2", "200"));
  ASSERT_TRUE(a.ok() && a2.ok() && b.ok());
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(Append(i % 3 == 2 ? *a2 : *a, {Event(absl::StrCat("e", i))}).ok());
    if (i % 4 == 0) {
      ASSERT_TRUE(Append(*b, {Event(absl::StrCat("b", i))}).ok());
    }
  }
  std::vector<std::string> seen;
  int64_t cursor = 0;
  while (true) {
    const std::vector<StoredEvent> page = Read("t1", "", cursor, 5);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 5u);
    for (const StoredEvent& e : page) {
      EXPECT_GT(e.cursor, cursor);
      cursor = e.cursor;
      seen.push_back(*e.event.webhook_event_id);
    }
  }
  ASSERT_THAT(seen, SizeIs(12));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(seen[i], absl::StrCat("e", i));

  const std::vector<StoredEvent> only_300 = Read("t1", "300");
  ASSERT_THAT(only_300, SizeIs(4));
  EXPECT_EQ(only_300[0].event.webhook_event_id, "e2");
  EXPECT_THAT(Read("t2"), SizeIs(3));
  EXPECT_THAT(Read("t3"), IsEmpty());
  EXPECT_TRUE(absl::IsInvalidArgument(store_.events->ReadEvents({"t1", "", 0, 0}).status()));
}

TEST_P(StoreContractTest, WebhookActivityIsRecordedAndReadAlongWithTheBinding) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "200"));
  ASSERT_TRUE(a.ok() && b.ok());
  absl::StatusOr<WebhookActivity> activity = store_.events->ReadActivity(a->row_id);
  ASSERT_TRUE(activity.ok()) << activity.status();
  EXPECT_FALSE(activity->last_signed_request.has_value());

  // An empty batch (LINE's Verify request) is recorded as a signed request.
  absl::StatusOr<AppendResult> verify = Append(*a, {}, kT0 + absl::Seconds(5));
  ASSERT_TRUE(verify.ok());
  EXPECT_EQ(verify->stored, 0);
  ASSERT_TRUE(Trouble(*a, WebhookTrouble::kBadSignature, kT0 + absl::Seconds(9)).ok());
  ASSERT_TRUE(Trouble(*a, WebhookTrouble::kDestinationMismatch, kT0 + absl::Seconds(10)).ok());

  activity = store_.events->ReadActivity(a->row_id);
  ASSERT_TRUE(activity.ok());
  EXPECT_EQ(activity->last_signed_request, kT0 + absl::Seconds(5));
  EXPECT_EQ(activity->last_bad_signature, kT0 + absl::Seconds(9));
  EXPECT_EQ(activity->last_destination_mismatch, kT0 + absl::Seconds(10));
  for (const absl::StatusOr<Binding>& found :
       {store_.bindings->FindActive("t1", "100"),
        store_.bindings->FindActiveByWebhookKey(a->webhook_key)}) {
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(found->activity.last_signed_request, kT0 + absl::Seconds(5));
    EXPECT_EQ(found->activity.last_bad_signature, kT0 + absl::Seconds(9));
    EXPECT_EQ(found->activity.last_destination_mismatch, kT0 + absl::Seconds(10));
  }

  // A later good request is seen too; the other binding saw nothing.
  ASSERT_TRUE(Append(*a, {Event("e1")}, kT0 + absl::Seconds(20)).ok());
  EXPECT_EQ(store_.bindings->FindActiveByWebhookKey(a->webhook_key)->activity.last_signed_request,
            kT0 + absl::Seconds(20));
  EXPECT_EQ(store_.bindings->FindActive("t1", "100")->activity.last_signed_request,
            kT0 + absl::Seconds(20));
  EXPECT_FALSE(store_.events->ReadActivity(b->row_id)->last_signed_request.has_value());
  EXPECT_FALSE(store_.bindings->FindActive("t1", "200")->activity.last_bad_signature.has_value());
}

TEST_P(StoreContractTest, RetentionDeletesOnlyOldEventsAndCursorsAreNeverReused) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(a.ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Append(*a, {Event(absl::StrCat("old", i))}, kT0).ok());
  ASSERT_TRUE(Append(*a, {Event("new")}, kT0 + absl::Hours(48)).ok());
  const absl::Time cutoff = kT0 + absl::Hours(1);
  EXPECT_EQ(*store_.events->DeleteEventsReceivedBefore(cutoff, 4), 4);
  EXPECT_EQ(*store_.events->DeleteEventsReceivedBefore(cutoff, 4), 4);
  EXPECT_EQ(*store_.events->DeleteEventsReceivedBefore(cutoff, 4), 2);
  EXPECT_EQ(*store_.events->DeleteEventsReceivedBefore(cutoff, 4), 0);
  const std::vector<StoredEvent> left = Read("t1");
  ASSERT_THAT(left, SizeIs(1));
  EXPECT_EQ(left[0].event.webhook_event_id, "new");
  ASSERT_TRUE(store_.events->DeleteEventsReceivedBefore(kT0 + absl::Hours(100), 10).ok());
  absl::StatusOr<AppendResult> after = Append(*a, {Event("after")});
  ASSERT_TRUE(after.ok());
  EXPECT_GT(after->last_cursor, left[0].cursor);
}


TEST_P(StoreContractTest, RunsADueJobOncePerPeriodPerName) {
  int runs = 0;
  const auto job = [&] { ++runs; };
  auto ran = store_.jobs->RunIfDue("recheck", absl::Hours(1), kT0, job);
  ASSERT_TRUE(ran.ok()) << ran.status();
  EXPECT_TRUE(*ran);
  EXPECT_FALSE(*store_.jobs->RunIfDue("recheck", absl::Hours(1), kT0 + absl::Minutes(59), job));
  EXPECT_TRUE(*store_.jobs->RunIfDue("retention", absl::Hours(1), kT0 + absl::Minutes(59), job));
  EXPECT_TRUE(*store_.jobs->RunIfDue("recheck", absl::Hours(1), kT0 + absl::Hours(1), job));
  EXPECT_EQ(runs, 3);
}

TEST_P(StoreContractTest, AJobRunsOnOneCallerAtATime) {
  absl::Notification started, release;
  auto first = std::async(std::launch::async, [&] {
    return store_.jobs->RunIfDue("recheck", absl::ZeroDuration(), kT0, [&] {
      started.Notify();
      release.WaitForNotification();
    });
  });
  started.WaitForNotification();
  bool second_ran = false;
  auto second = store_.jobs->RunIfDue("recheck", absl::ZeroDuration(), kT0,
                                      [&] { second_ran = true; });
  release.Notify();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(*second);
  EXPECT_FALSE(second_ran);
  auto ran = first.get();
  ASSERT_TRUE(ran.ok()) << ran.status();
  EXPECT_TRUE(*ran);
}

}  // namespace
}  // namespace linechannel::storage
