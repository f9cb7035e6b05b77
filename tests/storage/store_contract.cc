#include "tests/storage/store_contract.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <set>
#include <string>
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

StoreContractTest::AppendTotals StoreContractTest::AppendAtOnce(
    const Binding& b, std::vector<std::vector<NewEvent>> batches) {
  std::vector<absl::StatusOr<AppendResult>> results(batches.size(),
                                                    absl::UnknownError("no answer"));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < batches.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = Append(b, std::move(batches[i])); });
  }
  for (std::thread& t : threads) t.join();
  AppendTotals totals;
  for (const absl::StatusOr<AppendResult>& r : results) {
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) continue;
    totals.stored += r->stored;
    totals.duplicates += r->duplicates;
  }
  return totals;
}

absl::Status StoreContractTest::Trouble(const Binding& b, WebhookTrouble trouble, absl::Time at) {
  std::promise<absl::Status> promise;
  store_.events->RecordTrouble(b.row_id, trouble, at,
                               [&](absl::Status s) { promise.set_value(s); });
  return promise.get_future().get();
}

std::vector<StoredEvent> StoreContractTest::ReadAll(const std::string& team,
                                                    const std::string& channel, int64_t after,
                                                    int limit) {
  absl::StatusOr<std::vector<StoredEvent>> events =
      store_.events->ReadEvents({team, channel, after, limit});
  EXPECT_TRUE(events.ok()) << events.status();
  return events.ok() ? *events : std::vector<StoredEvent>();
}

std::vector<StoredEvent> StoreContractTest::Read(const std::string& team,
                                                 const std::string& channel, int64_t after,
                                                 int limit) {
  std::vector<StoredEvent> events = ReadAll(team, channel, after, limit);
  events.erase(std::remove_if(events.begin(), events.end(),
                              [](const StoredEvent& e) { return e.lifecycle.has_value(); }),
               events.end());
  return events;
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

// A bind's "already bound" rests on FindActiveNow: on every store (behind the cache too) it
// must answer what FindActive answers, through a bind, an unbind and a bind by another team.
TEST_P(StoreContractTest, FindActiveNowAnswersAsFindActiveThroughBindAndUnbind) {
  const auto same_answer = [&](absl::string_view team, absl::string_view channel) {
    absl::StatusOr<Binding> now = store_.bindings->FindActiveNow(team, channel);
    absl::StatusOr<Binding> found = store_.bindings->FindActive(team, channel);
    ASSERT_EQ(now.status().code(), found.status().code()) << team << "/" << channel;
    if (now.ok()) {
      EXPECT_EQ(now->row_id, found->row_id);
      EXPECT_EQ(now->binding_id, found->binding_id);
      EXPECT_EQ(now->team_id, team);
      EXPECT_EQ(now->channel_secret, found->channel_secret);
    }
  };
  absl::StatusOr<Binding> first = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(store_.bindings->FindActiveNow("t1", "100")->row_id, first->row_id);
  same_answer("t1", "100");
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActiveNow("t2", "100").status()));
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActiveNow("t1", "999").status()));

  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "100", {"op", kT0 + absl::Hours(1), ""}).ok());
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActiveNow("t1", "100").status()));
  same_answer("t1", "100");

  absl::StatusOr<Binding> second = Insert(MakeBinding("t2", "100", 1));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(store_.bindings->FindActiveNow("t2", "100")->row_id, second->row_id);
  same_answer("t2", "100");
  EXPECT_TRUE(absl::IsNotFound(store_.bindings->FindActiveNow("t1", "100").status()));
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
    EXPECT_EQ(record.binding_id, stored->binding_id);
    EXPECT_EQ(record.team_id, "t1");
    EXPECT_EQ(record.channel_id, "100");
  }
  EXPECT_LT((*audit)[0].id, (*audit)[1].id);
  EXPECT_LT((*audit)[1].id, (*audit)[2].id);
}

TEST_P(StoreContractTest, ListTeamAuditPagesTheTeamsRowsNewestFirstWithUnboundBindings) {
  // t1 binds 100, updates it, unbinds it and binds it again; binds 200; t2 binds 100 once
  // t1's first binding is gone and binds 300.
  absl::StatusOr<Binding> first = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(first.ok());
  CredentialUpdate update;
  update.access_token = SealedValue{"k2", "new-token"};
  ASSERT_TRUE(store_.bindings
                  ->ReplaceCredentials(first->row_id, update,
                                       {"op2", kT0 + absl::Minutes(1), "channel_access_token"})
                  .ok());
  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "100", {"op3", kT0 + absl::Minutes(2), ""}).ok());
  ASSERT_TRUE(Insert(MakeBinding("t2", "100")).ok());
  ASSERT_TRUE(store_.bindings->MarkUnbound("t2", "100", {"op9", kT0 + absl::Minutes(3), ""}).ok());
  absl::StatusOr<Binding> second = Insert(MakeBinding("t1", "100", 1));
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(Insert(MakeBinding("t1", "200")).ok());
  ASSERT_TRUE(Insert(MakeBinding("t2", "300")).ok());

  const auto read_all = [&](const std::string& team, const std::string& channel, int limit,
                            int* pages) {
    std::vector<AuditRecord> seen;
    int64_t before = 0;
    *pages = 0;
    do {
      absl::StatusOr<AuditPage> page =
          store_.bindings->ListTeamAudit(team, channel, before, limit);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      seen.insert(seen.end(), page->records.begin(), page->records.end());
      before = page->next_before_id;
      ++*pages;
    } while (before != 0 && *pages < 100);
    return seen;
  };
  const auto actions = [](const std::vector<AuditRecord>& records) {
    std::vector<std::string> out;
    for (const AuditRecord& r : records) out.push_back(absl::StrCat(r.channel_id, ":", r.action));
    return out;
  };

  int pages = 0;
  std::vector<AuditRecord> all = read_all("t1", "", 2, &pages);
  EXPECT_THAT(actions(all), ElementsAre("200:bind", "100:bind", "100:unbind",
                                        "100:update_credentials", "100:bind"));
  EXPECT_EQ(pages, 3);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i - 1].id, all[i].id);
  for (const AuditRecord& r : all) EXPECT_EQ(r.team_id, "t1");
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[1].binding_id, "id-t1-100-1");
  EXPECT_EQ(all[1].binding_row_id, second->row_id);
  EXPECT_EQ(all[2].binding_id, "id-t1-100-0");
  EXPECT_EQ(all[2].binding_row_id, first->row_id);
  EXPECT_EQ(all[2].actor, "op3");
  EXPECT_EQ(all[2].at, kT0 + absl::Minutes(2));
  EXPECT_EQ(all[3].actor, "op2");
  EXPECT_EQ(all[3].detail, "channel_access_token");
  EXPECT_EQ(all[4].actor, "tester");
  EXPECT_EQ(all[4].at, kT0);

  // The channel filter, and one page when the limit covers everything.
  EXPECT_THAT(actions(read_all("t1", "100", 10, &pages)),
              ElementsAre("100:bind", "100:unbind", "100:update_credentials", "100:bind"));
  EXPECT_EQ(pages, 1);
  EXPECT_THAT(actions(read_all("t1", "100", 4, &pages)), SizeIs(4));
  EXPECT_EQ(pages, 1);
  // Another team's rows never show, also for a channel both teams bound.
  EXPECT_THAT(actions(read_all("t2", "", 10, &pages)),
              ElementsAre("300:bind", "100:unbind", "100:bind"));
  EXPECT_THAT(actions(read_all("t2", "200", 10, &pages)), IsEmpty());
  EXPECT_THAT(actions(read_all("t3", "", 10, &pages)), IsEmpty());
  EXPECT_TRUE(
      absl::IsInvalidArgument(store_.bindings->ListTeamAudit("t1", "", 0, 0).status()));
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

TEST_P(StoreContractTest, RecordProofVerifiesAnUnverifiedBindingOnce) {
  Binding unverified = MakeBinding("t1", "100");
  unverified.bot_user_id.clear();
  unverified.bot_display_name.clear();
  unverified.verified_with_line = false;
  absl::StatusOr<Binding> stored = Insert(unverified);
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(store_.bindings->SetAttention(stored->row_id, {"token rejected"}, kT0).ok());

  // A proof of older credentials is stale.
  const Proof stale{"U100", "Bot 100", kT0 - absl::Seconds(1)};
  EXPECT_TRUE(absl::IsNotFound(
      store_.bindings->RecordProof(stored->row_id, stale, {"re-check", kT0, "x"}, nullptr)
          .status()));

  const Proof proof{"U100", "Bot 100", kT0};
  const absl::Time at = kT0 + absl::Minutes(1);
  absl::StatusOr<Binding> proved =
      store_.bindings->RecordProof(stored->row_id, proof, {"re-check", at, "verified"}, nullptr);
  ASSERT_TRUE(proved.ok()) << proved.status();
  EXPECT_TRUE(proved->verified_with_line);
  EXPECT_EQ(proved->bot_user_id, "U100");
  EXPECT_EQ(proved->bot_display_name, "Bot 100");
  EXPECT_THAT(proved->attention_reasons, IsEmpty());
  EXPECT_EQ(proved->checked_at, at);
  absl::StatusOr<Binding> found = store_.bindings->FindActive("t1", "100");
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->verified_with_line);
  EXPECT_EQ(found->bot_user_id, "U100");
  absl::StatusOr<std::vector<AuditRecord>> audit = store_.bindings->ListAudit(stored->row_id);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[1].action, "bind");
  EXPECT_EQ((*audit)[1].actor, "re-check");
  EXPECT_EQ((*audit)[1].detail, "verified");
  // Readers of the stream hear of it: bound, the finding, then the proof clearing it.
  const std::vector<StoredEvent> events = ReadAll("t1");
  ASSERT_EQ(events.size(), 3u);
  ASSERT_TRUE(events[2].lifecycle.has_value());
  EXPECT_EQ(events[2].lifecycle->kind, LifecycleKind::kStateChanged);
  EXPECT_EQ(events[2].lifecycle->actor, "re-check");
  EXPECT_THAT(events[2].lifecycle->attention_reasons, IsEmpty());

  // Once verified, there is nothing left to prove.
  EXPECT_TRUE(absl::IsNotFound(
      store_.bindings->RecordProof(stored->row_id, proof, {"re-check", at, "x"}, nullptr)
          .status()));
}

TEST_P(StoreContractTest, RecordProofRefusesABotAnotherActiveBindingHolds) {
  absl::StatusOr<Binding> holder = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(holder.ok());
  Binding unverified = MakeBinding("t2", "200");
  unverified.bot_user_id.clear();
  unverified.verified_with_line = false;
  absl::StatusOr<Binding> stored = Insert(unverified);
  ASSERT_TRUE(stored.ok());

  Binding conflict;
  absl::StatusOr<Binding> proved = store_.bindings->RecordProof(
      stored->row_id, {"U100", "Bot", kT0}, {"re-check", kT0, "verified"}, &conflict);
  EXPECT_TRUE(absl::IsAlreadyExists(proved.status())) << proved.status();
  EXPECT_EQ(conflict.row_id, holder->row_id);
  EXPECT_EQ(conflict.team_id, "t1");
  absl::StatusOr<Binding> found = store_.bindings->FindActive("t2", "200");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->verified_with_line);
  EXPECT_TRUE(found->bot_user_id.empty());
  EXPECT_EQ(store_.bindings->ListAudit(stored->row_id)->size(), 1u);
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

// LINE may redeliver an event long after it first came: by then the OA may have been unbound
// and bound again, by the same team or another one.
TEST_P(StoreContractTest, AnEventOfAnOaIsStoredOnceAcrossUnbindAndRebind) {
  absl::StatusOr<Binding> first = Insert(MakeBinding("t1", "100"));
  absl::StatusOr<Binding> other_oa = Insert(MakeBinding("t1", "200"));
  ASSERT_TRUE(first.ok() && other_oa.ok());
  ASSERT_EQ(Append(*first, {Event("e1")})->stored, 1);
  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "100", {"op", kT0, ""}).ok());

  for (const std::string team : {"t1", "t2"}) {
    SCOPED_TRACE(team);
    absl::StatusOr<Binding> again = Insert(MakeBinding(team, "100", team == "t1" ? 1 : 2));
    ASSERT_TRUE(again.ok()) << again.status();
    ASSERT_NE(again->row_id, first->row_id);
    NewEvent redelivered = Event("e1");
    redelivered.redelivery = true;
    absl::StatusOr<AppendResult> result = Append(*again, {redelivered, Event("e2-" + team)});
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->stored, 1);
    EXPECT_EQ(result->duplicates, 1);
    ASSERT_TRUE(store_.bindings->MarkUnbound(team, "100", {"op", kT0, ""}).ok());
  }
  // The id is still new to another OA.
  EXPECT_EQ(Append(*other_oa, {Event("e1")})->stored, 1);

  std::vector<StoredEvent> events = Read("t1", "100");
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].binding_id, first->binding_id);
  EXPECT_EQ(events[0].event.webhook_event_id, "e1");
  EXPECT_FALSE(events[0].event.redelivery);
  EXPECT_EQ(events[1].event.webhook_event_id, "e2-t1");
  EXPECT_THAT(Read("t2", "100"), SizeIs(1));
  EXPECT_THAT(Read("t1", "200"), SizeIs(1));
}

TEST_P(StoreContractTest, SimultaneousCopiesOfAnEventStoreItOnce) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(a.ok());
  constexpr int kCopies = 8;
  const AppendTotals totals =
      AppendAtOnce(*a, std::vector<std::vector<NewEvent>>(kCopies, {Event("same")}));
  EXPECT_EQ(totals.stored, 1);
  EXPECT_EQ(totals.duplicates, kCopies - 1);
}

// Bursts of batches sent at once, as a busy OA's webhooks arrive: each batch has a new event,
// a copy of its neighbour's new event (racing it in the same burst) and a copy of its own from
// the burst before. Every event is stored once. (On the SQLite store as channeld opens it, the
// commit thread may linger for more of a burst's writes.)
TEST_P(StoreContractTest, BurstsOfConcurrentBatchesStoreEachEventOnce) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(a.ok());
  constexpr int kBursts = 20;
  constexpr int kBatches = 8;
  const auto id = [](int burst, int batch) { return absl::StrCat("b", burst, "-", batch); };
  AppendTotals all;
  for (int burst = 0; burst < kBursts; ++burst) {
    std::vector<std::vector<NewEvent>> batches;
    for (int i = 0; i < kBatches; ++i) {
      std::vector<NewEvent>& events = batches.emplace_back();
      events.push_back(Event(id(burst, i)));
      events.push_back(Event(id(burst, (i + 1) % kBatches)));
      if (burst > 0) events.push_back(Event(id(burst - 1, i)));
    }
    const AppendTotals totals = AppendAtOnce(*a, std::move(batches));
    all.stored += totals.stored;
    all.duplicates += totals.duplicates;
  }
  EXPECT_EQ(all.stored, kBursts * kBatches);
  EXPECT_EQ(all.duplicates, kBursts * kBatches + (kBursts - 1) * kBatches);
  std::set<std::string> ids;
  for (const StoredEvent& e : Read("t1")) ids.insert(e.event.webhook_event_id.value_or(""));
  EXPECT_THAT(ids, SizeIs(kBursts * kBatches));
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
  // The lifecycle event of the bind (at kT0) is old too: retention deletes it like the others.
  EXPECT_EQ(*store_.events->DeleteEventsReceivedBefore(cutoff, 4), 4);
  EXPECT_EQ(*store_.events->DeleteEventsReceivedBefore(cutoff, 4), 4);
  EXPECT_EQ(*store_.events->DeleteEventsReceivedBefore(cutoff, 4), 3);
  EXPECT_EQ(*store_.events->DeleteEventsReceivedBefore(cutoff, 4), 0);
  const std::vector<StoredEvent> left = ReadAll("t1");
  ASSERT_THAT(left, SizeIs(1));
  EXPECT_EQ(left[0].event.webhook_event_id, "new");
  ASSERT_TRUE(store_.events->DeleteEventsReceivedBefore(kT0 + absl::Hours(100), 10).ok());
  absl::StatusOr<AppendResult> after = Append(*a, {Event("after")});
  ASSERT_TRUE(after.ok());
  EXPECT_GT(after->last_cursor, left[0].cursor);
}

// --- Lifecycle events ----------------------------------------------------------------------

// The kinds of the lifecycle events among `events`, in order, with "line:<id>" for webhook
// events.
std::vector<std::string> Kinds(const std::vector<StoredEvent>& events) {
  std::vector<std::string> kinds;
  for (const StoredEvent& e : events) {
    kinds.push_back(e.lifecycle ? LifecycleKindName(e.lifecycle->kind)
                                : "line:" + e.event.webhook_event_id.value_or(""));
  }
  return kinds;
}

TEST_P(StoreContractTest, BindingChangesStoreLifecycleEventsInCursorOrderWithWebhookEvents) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(Append(*a, {Event("e1")}).ok());
  CredentialUpdate update;
  update.access_token = SealedValue{"k2", "sealed-token"};
  update.access_token_hint = "oken";
  ASSERT_TRUE(
      store_.bindings->ReplaceCredentials(a->row_id, update, {"rotator", kT0, "access_token"})
          .ok());
  ASSERT_TRUE(store_.bindings->SetAttention(a->row_id, {"token revoked"}, kT0).ok());
  // A check that finds the same stores no event.
  ASSERT_TRUE(store_.bindings->SetAttention(a->row_id, {"token revoked"}, kT0).ok());
  ASSERT_TRUE(Append(*a, {Event("e2")}).ok());
  ASSERT_TRUE(store_.bindings->SetAttention(a->row_id, {}, kT0 + absl::Hours(1)).ok());
  ASSERT_TRUE(store_.bindings->SetAttention(a->row_id, {}, kT0 + absl::Hours(2)).ok());
  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "100", {"op", kT0 + absl::Hours(3), ""}).ok());

  const std::vector<StoredEvent> events = ReadAll("t1");
  EXPECT_THAT(Kinds(events), ElementsAre("bound", "line:e1", "credentials_updated", "state_changed",
                                         "line:e2", "state_changed", "unbound"));
  ASSERT_THAT(events, SizeIs(7));
  for (size_t i = 1; i < events.size(); ++i) EXPECT_LT(events[i - 1].cursor, events[i].cursor);
  for (const StoredEvent& e : events) {
    EXPECT_EQ(e.team_id, "t1");
    EXPECT_EQ(e.channel_id, "100");
    EXPECT_EQ(e.binding_id, a->binding_id);
    if (e.lifecycle) {
      EXPECT_FALSE(e.event.webhook_event_id.has_value());
      EXPECT_EQ(e.event.type, LifecycleKindName(e.lifecycle->kind));
      EXPECT_EQ(e.event.raw_json, "");
    }
  }
  EXPECT_EQ(events[0].lifecycle->actor, "tester");
  EXPECT_EQ(events[0].received_at, kT0);
  EXPECT_EQ(events[2].lifecycle->actor, "rotator");
  EXPECT_EQ(events[2].lifecycle->detail, "access_token");
  EXPECT_THAT(events[3].lifecycle->attention_reasons, ElementsAre("token revoked"));
  EXPECT_THAT(events[5].lifecycle->attention_reasons, IsEmpty());
  EXPECT_EQ(events[5].received_at, kT0 + absl::Hours(1));
  EXPECT_EQ(events[6].lifecycle->actor, "op");
  EXPECT_EQ(events[6].received_at, kT0 + absl::Hours(3));
  // Channel filters apply to them as to webhook events.
  EXPECT_THAT(ReadAll("t1", "100"), SizeIs(7));
  EXPECT_THAT(ReadAll("t1", "999"), IsEmpty());
}

TEST_P(StoreContractTest, LifecycleEventsGoOnlyToTheBindingsTeam) {
  absl::StatusOr<Binding> first = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "100", {"op", kT0, ""}).ok());
  absl::StatusOr<Binding> second = Insert(MakeBinding("t2", "100", 2));
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_TRUE(store_.bindings->SetAttention(second->row_id, {"x"}, kT0).ok());

  EXPECT_THAT(Kinds(ReadAll("t1")), ElementsAre("bound", "unbound"));
  const std::vector<StoredEvent> t2 = ReadAll("t2");
  EXPECT_THAT(Kinds(t2), ElementsAre("bound", "state_changed"));
  for (const StoredEvent& e : t2) EXPECT_EQ(e.binding_id, second->binding_id);
  // A change refused by the store stores no event.
  EXPECT_FALSE(store_.bindings->MarkUnbound("t1", "100", {"op", kT0, ""}).ok());
  EXPECT_FALSE(store_.bindings->SetAttention(first->row_id, {"y"}, kT0).ok());
  EXPECT_FALSE(Insert(MakeBinding("t3", "100", 3)).ok());
  EXPECT_THAT(ReadAll("t1"), SizeIs(2));
  EXPECT_THAT(ReadAll("t3"), IsEmpty());
}

TEST_P(StoreContractTest, ABotStatusChangeIsAppliedWithItsBatchOnceAndNeverUndoneByAnOlderOne) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(a.ok());
  const auto append = [&](const std::string& id, bool suspended, absl::Time at) {
    NewEvent e = Event(id);
    e.type = suspended ? "botSuspended" : "botResumed";
    EventBatch batch{a->row_id, "t1", "100", kT0 + absl::Hours(1), {e}};
    batch.bot_status = BotStatusChange{suspended, at};
    std::promise<absl::StatusOr<AppendResult>> promise;
    store_.events->AppendEvents(std::move(batch),
                                [&](absl::StatusOr<AppendResult> r) { promise.set_value(r); });
    return promise.get_future().get();
  };
  ASSERT_TRUE(store_.bindings->SetAttention(a->row_id, {"token revoked"}, kT0).ok());

  absl::StatusOr<AppendResult> suspended = append("s1", true, kT0 + absl::Minutes(10));
  ASSERT_TRUE(suspended.ok()) << suspended.status();
  EXPECT_EQ(suspended->stored, 1);
  EXPECT_EQ(suspended->lifecycle_stored, 1);
  EXPECT_TRUE(store_.bindings->FindActive("t1", "100")->bot_suspended);
  std::vector<StoredEvent> events = ReadAll("t1");
  ASSERT_THAT(Kinds(events), ElementsAre("bound", "state_changed", "line:s1", "bot_suspended"));
  EXPECT_EQ(suspended->last_cursor, events[3].cursor);
  EXPECT_TRUE(events[3].lifecycle->bot_suspended);
  EXPECT_THAT(events[3].lifecycle->attention_reasons, ElementsAre("token revoked"));

  // LINE's redelivery, and an older resume arriving late, change nothing.
  EXPECT_EQ(append("s1", true, kT0 + absl::Minutes(10))->lifecycle_stored, 0);
  EXPECT_EQ(append("r0", false, kT0 + absl::Minutes(5))->lifecycle_stored, 0);
  EXPECT_TRUE(store_.bindings->FindActive("t1", "100")->bot_suspended);

  absl::StatusOr<AppendResult> resumed = append("r1", false, kT0 + absl::Minutes(20));
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->lifecycle_stored, 1);
  EXPECT_FALSE(store_.bindings->FindActive("t1", "100")->bot_suspended);
  events = ReadAll("t1");
  EXPECT_THAT(Kinds(events), ElementsAre("bound", "state_changed", "line:s1", "bot_suspended",
                                         "line:r0", "line:r1", "bot_resumed"));
  EXPECT_FALSE(events.back().lifecycle->bot_suspended);
  // A check's findings are kept apart from the suspension.
  ASSERT_TRUE(append("s2", true, kT0 + absl::Minutes(30))->lifecycle_stored == 1);
  ASSERT_TRUE(store_.bindings->SetAttention(a->row_id, {}, kT0 + absl::Hours(2)).ok());
  events = ReadAll("t1");
  ASSERT_EQ(Kinds(events).back(), "state_changed");
  EXPECT_TRUE(events.back().lifecycle->bot_suspended);
  EXPECT_TRUE(store_.bindings->FindActive("t1", "100")->bot_suspended);

  // Unbound, the binding takes no bot status change.
  ASSERT_TRUE(store_.bindings->MarkUnbound("t1", "100", {"op", kT0, ""}).ok());
  EXPECT_EQ(append("r2", false, kT0 + absl::Hours(3))->lifecycle_stored, 0);
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

// --- PushOutbox --------------------------------------------------------------------------

PushAttempt Attempt(int64_t push_id, PushState outcome, absl::Time at) {
  PushAttempt a;
  a.push_id = push_id;
  a.outcome = outcome;
  a.at = at;
  return a;
}

// Admits `push`, failing the test unless that creates it.
PushRecord AdmitNew(PushOutbox& outbox, const PushRecord& push) {
  absl::StatusOr<PushAdmission> admitted = outbox.Admit(push);
  EXPECT_TRUE(admitted.ok()) << admitted.status();
  if (!admitted.ok()) return PushRecord();
  EXPECT_TRUE(admitted->created);
  return admitted->push;
}

std::vector<int64_t> PushIds(const absl::StatusOr<std::vector<PushRecord>>& pushes) {
  EXPECT_TRUE(pushes.ok()) << pushes.status();
  std::vector<int64_t> ids;
  if (pushes.ok()) {
    for (const PushRecord& p : *pushes) ids.push_back(p.id);
  }
  return ids;
}

TEST_P(StoreContractTest, AdmitStoresAPushOnceAndARepeatReturnsTheFirst) {
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(b.ok()) << b.status();
  absl::StatusOr<PushAdmission> first = store_.pushes->Admit(MakePush(b->row_id, "r1"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created);
  const PushRecord& p = first->push;
  EXPECT_GT(p.id, 0);
  EXPECT_EQ(p.binding_row_id, b->row_id);
  EXPECT_EQ(p.request_id, "r1");
  EXPECT_EQ(p.retry_key, "retry-r1");
  EXPECT_EQ(p.request_digest, "digest-r1");
  EXPECT_EQ(p.to, "Uto");
  EXPECT_EQ(p.messages_json, R"([{"type":"text","text":"hello"}])");
  EXPECT_TRUE(p.notification_disabled);
  EXPECT_EQ(p.state, PushState::kPending);
  EXPECT_EQ(p.attempts, 1);  // The admitter attempts it at once.
  EXPECT_EQ(p.accepted_at, kT0);
  EXPECT_EQ(p.next_attempt_at, kT0);
  EXPECT_EQ(p.lease_until, kT0 + absl::Seconds(30));
  EXPECT_FALSE(p.finished_at.has_value());
  EXPECT_EQ(p.line_request_id, "");
  EXPECT_EQ(p.sent_messages_json, "");
  EXPECT_EQ(p.failure_reason, "");
  EXPECT_EQ(p.failure_message, "");

  // A repeat with other contents (a different push reusing the request id) gets the first.
  PushRecord repeat = MakePush(b->row_id, "r1", kT0 + absl::Minutes(1));
  repeat.retry_key = "retry-other";
  repeat.request_digest = "digest-other";
  repeat.messages_json = "[]";
  absl::StatusOr<PushAdmission> second = store_.pushes->Admit(repeat);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->push.id, p.id);
  EXPECT_EQ(second->push.retry_key, "retry-r1");
  EXPECT_EQ(second->push.request_digest, "digest-r1");
  EXPECT_EQ(second->push.messages_json, p.messages_json);
  EXPECT_EQ(second->push.accepted_at, kT0);
  EXPECT_EQ(second->push.lease_until, kT0 + absl::Seconds(30));
}

TEST_P(StoreContractTest, OneRequestIdOnTwoBindingsIsTwoPushes) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "200"));
  ASSERT_TRUE(a.ok() && b.ok());
  const PushRecord on_a = AdmitNew(*store_.pushes, MakePush(a->row_id, "r1"));
  const PushRecord on_b = AdmitNew(*store_.pushes, MakePush(b->row_id, "r1"));
  EXPECT_NE(on_a.id, on_b.id);
  EXPECT_EQ(on_b.binding_row_id, b->row_id);
}

TEST_P(StoreContractTest, FindReturnsTheBindingsPushWithThatRequestId) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "200"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(absl::IsNotFound(store_.pushes->Find(a->row_id, "r1").status()));
  const PushRecord admitted = AdmitNew(*store_.pushes, MakePush(a->row_id, "r1"));
  absl::StatusOr<PushRecord> found = store_.pushes->Find(a->row_id, "r1");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->id, admitted.id);
  EXPECT_EQ(found->retry_key, "retry-r1");
  EXPECT_EQ(found->messages_json, admitted.messages_json);
  EXPECT_EQ(found->lease_until, admitted.lease_until);
  EXPECT_TRUE(absl::IsNotFound(store_.pushes->Find(a->row_id, "r2").status()));
  EXPECT_TRUE(absl::IsNotFound(store_.pushes->Find(b->row_id, "r1").status()));
}

TEST_P(StoreContractTest, LeaseDueHandsOutOnlyDueUnleasedPendingPushesOldestDueFirst) {
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(b.ok()) << b.status();
  const auto push = [&](const std::string& request_id, absl::Duration due, absl::Duration lease) {
    PushRecord p = MakePush(b->row_id, request_id, kT0 - absl::Hours(1));
    p.next_attempt_at = kT0 + due;
    p.lease_until = kT0 + lease;
    return AdmitNew(*store_.pushes, p);
  };
  const PushRecord later = push("later", -absl::Minutes(1), -absl::Minutes(1));
  const PushRecord earlier = push("earlier", -absl::Minutes(2), -absl::Minutes(2));
  push("not-due", absl::Minutes(1), -absl::Minutes(1));
  push("leased", -absl::Minutes(3), absl::Minutes(1));
  const PushRecord ended = push("ended", -absl::Minutes(4), -absl::Minutes(4));
  ASSERT_TRUE(store_.pushes->RecordAttempt(Attempt(ended.id, PushState::kSent, kT0)).ok());

  const absl::Time lease_until = kT0 + absl::Seconds(30);
  absl::StatusOr<std::vector<PushRecord>> leased = store_.pushes->LeaseDue(kT0, lease_until, 10);
  EXPECT_THAT(PushIds(leased), ElementsAre(earlier.id, later.id));
  if (leased.ok() && leased->size() == 2) {
    for (const PushRecord& p : *leased) {
      EXPECT_EQ(p.state, PushState::kPending);
      EXPECT_EQ(p.lease_until, lease_until);
      EXPECT_EQ(p.messages_json, R"([{"type":"text","text":"hello"}])");
      EXPECT_EQ(p.to, "Uto");
      EXPECT_EQ(p.retry_key, "retry-" + p.request_id);
    }
  }
  // Leased now: no one else gets them before the lease ends.
  EXPECT_THAT(PushIds(store_.pushes->LeaseDue(kT0 + absl::Seconds(10), kT0 + absl::Minutes(5), 10)),
              IsEmpty());
  absl::StatusOr<PushRecord> found = store_.pushes->Find(b->row_id, "earlier");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->lease_until, lease_until);
  // Once the lease has run out they are handed out again, up to the limit.
  EXPECT_THAT(PushIds(store_.pushes->LeaseDue(lease_until, lease_until + absl::Seconds(30), 1)),
              ElementsAre(earlier.id));
}

TEST_P(StoreContractTest, AnAdmittedPushIsLeasedToItsAdmitterUntilItsLeaseUntil) {
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(b.ok()) << b.status();
  const PushRecord p = AdmitNew(*store_.pushes, MakePush(b->row_id, "r1"));
  EXPECT_THAT(PushIds(store_.pushes->LeaseDue(kT0, kT0 + absl::Minutes(1), 10)), IsEmpty());
  EXPECT_THAT(PushIds(store_.pushes->LeaseDue(p.lease_until - absl::Microseconds(1),
                                              kT0 + absl::Minutes(1), 10)),
              IsEmpty());
  EXPECT_THAT(PushIds(store_.pushes->LeaseDue(p.lease_until, kT0 + absl::Minutes(1), 10)),
              ElementsAre(p.id));
}

TEST_P(StoreContractTest, APendingAttemptReschedulesThePushAndReleasesItsLease) {
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(b.ok()) << b.status();
  const PushRecord p = AdmitNew(*store_.pushes, MakePush(b->row_id, "r1"));
  PushAttempt attempt = Attempt(p.id, PushState::kPending, kT0 + absl::Seconds(1));
  attempt.next_attempt_at = kT0 + absl::Minutes(1);
  attempt.failure_reason = "line_unavailable";
  attempt.failure_message = "LINE answered 500";
  absl::StatusOr<PushRecord> recorded = store_.pushes->RecordAttempt(attempt);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->id, p.id);
  EXPECT_EQ(recorded->state, PushState::kPending);
  EXPECT_EQ(recorded->attempts, 1);
  EXPECT_EQ(recorded->next_attempt_at, kT0 + absl::Minutes(1));
  EXPECT_EQ(recorded->lease_until, kT0 + absl::Seconds(1));
  EXPECT_FALSE(recorded->finished_at.has_value());
  EXPECT_EQ(recorded->messages_json, p.messages_json);
  EXPECT_EQ(recorded->failure_reason, "line_unavailable");
  EXPECT_EQ(recorded->failure_message, "LINE answered 500");
  absl::StatusOr<PushRecord> found = store_.pushes->Find(b->row_id, "r1");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->attempts, 1);
  EXPECT_EQ(found->next_attempt_at, kT0 + absl::Minutes(1));

  // Not due before its next attempt (its old lease no longer matters), due then.
  EXPECT_THAT(PushIds(store_.pushes->LeaseDue(kT0 + absl::Seconds(59), kT0 + absl::Hours(1), 10)),
              IsEmpty());
  absl::StatusOr<std::vector<PushRecord>> due =
      store_.pushes->LeaseDue(kT0 + absl::Minutes(1), kT0 + absl::Minutes(2), 10);
  ASSERT_THAT(PushIds(due), ElementsAre(p.id));
  EXPECT_EQ((*due)[0].attempts, 2);  // Counted when leased.
  EXPECT_EQ((*due)[0].messages_json, p.messages_json);

  attempt.at = kT0 + absl::Minutes(1);
  attempt.next_attempt_at = kT0 + absl::Minutes(5);
  attempt.failure_message = "LINE answered 503";
  recorded = store_.pushes->RecordAttempt(attempt);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->attempts, 2);
  EXPECT_EQ(recorded->lease_until, kT0 + absl::Minutes(1));
  EXPECT_EQ(recorded->failure_message, "LINE answered 503");
}

TEST_P(StoreContractTest, ASentAttemptEndsThePushAndEmptiesItsMessages) {
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(b.ok()) << b.status();
  const PushRecord p = AdmitNew(*store_.pushes, MakePush(b->row_id, "r1"));
  PushAttempt attempt = Attempt(p.id, PushState::kSent, kT0 + absl::Seconds(2));
  attempt.line_request_id = "line-req-1";
  attempt.sent_messages_json = R"([{"id":"468789577898262530","quoteToken":"q1"}])";
  absl::StatusOr<PushRecord> recorded = store_.pushes->RecordAttempt(attempt);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  absl::StatusOr<PushRecord> found = store_.pushes->Find(b->row_id, "r1");
  ASSERT_TRUE(found.ok()) << found.status();
  for (const PushRecord& stored : {*recorded, *found}) {
    EXPECT_EQ(stored.id, p.id);
    EXPECT_EQ(stored.state, PushState::kSent);
    EXPECT_EQ(stored.attempts, 1);
    EXPECT_EQ(stored.finished_at, kT0 + absl::Seconds(2));
    EXPECT_EQ(stored.messages_json, "");
    EXPECT_EQ(stored.line_request_id, "line-req-1");
    EXPECT_EQ(stored.sent_messages_json, attempt.sent_messages_json);
    EXPECT_EQ(stored.retry_key, "retry-r1");
    EXPECT_EQ(stored.request_digest, "digest-r1");
  }
  EXPECT_THAT(PushIds(store_.pushes->LeaseDue(kT0 + absl::Hours(1), kT0 + absl::Hours(2), 10)),
              IsEmpty());
}

TEST_P(StoreContractTest, AFailedAttemptEndsThePushWithItsReason) {
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(b.ok()) << b.status();
  const PushRecord p = AdmitNew(*store_.pushes, MakePush(b->row_id, "r1"));
  PushAttempt attempt = Attempt(p.id, PushState::kFailed, kT0 + absl::Seconds(3));
  attempt.failure_reason = "line_rejected";
  attempt.failure_message = "LINE refused the message: invalid recipient";
  absl::StatusOr<PushRecord> recorded = store_.pushes->RecordAttempt(attempt);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->state, PushState::kFailed);
  EXPECT_EQ(recorded->attempts, 1);
  EXPECT_EQ(recorded->finished_at, kT0 + absl::Seconds(3));
  EXPECT_EQ(recorded->messages_json, "");
  EXPECT_EQ(recorded->failure_reason, "line_rejected");
  EXPECT_EQ(recorded->failure_message, "LINE refused the message: invalid recipient");
  absl::StatusOr<PushRecord> found = store_.pushes->Find(b->row_id, "r1");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->state, PushState::kFailed);
  EXPECT_EQ(found->failure_reason, "line_rejected");
}

TEST_P(StoreContractTest, AnAttemptOnAnEndedPushLeavesItAsItIs) {
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(b.ok()) << b.status();
  const PushRecord p = AdmitNew(*store_.pushes, MakePush(b->row_id, "r1"));
  PushAttempt sent = Attempt(p.id, PushState::kSent, kT0 + absl::Seconds(1));
  sent.line_request_id = "line-req-1";
  ASSERT_TRUE(store_.pushes->RecordAttempt(sent).ok());
  for (PushState outcome : {PushState::kFailed, PushState::kPending, PushState::kSent}) {
    PushAttempt late = Attempt(p.id, outcome, kT0 + absl::Seconds(5));
    late.next_attempt_at = kT0 + absl::Minutes(1);
    late.line_request_id = "line-req-2";
    late.failure_reason = "line_rejected";
    absl::StatusOr<PushRecord> recorded = store_.pushes->RecordAttempt(late);
    ASSERT_TRUE(recorded.ok()) << recorded.status();
    EXPECT_EQ(recorded->state, PushState::kSent);
    EXPECT_EQ(recorded->attempts, 1);
    EXPECT_EQ(recorded->finished_at, kT0 + absl::Seconds(1));
    EXPECT_EQ(recorded->line_request_id, "line-req-1");
    EXPECT_EQ(recorded->failure_reason, "");
  }
}

TEST_P(StoreContractTest, AnAttemptOfAnUnknownPushIsNotFound) {
  absl::StatusOr<PushRecord> recorded =
      store_.pushes->RecordAttempt(Attempt(12345, PushState::kSent, kT0));
  EXPECT_TRUE(absl::IsNotFound(recorded.status())) << recorded.status();
}

TEST_P(StoreContractTest, DeleteEndedBeforeDeletesOnlyPushesThatEndedBeforeOldestFirst) {
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(b.ok()) << b.status();
  const auto ended = [&](const std::string& request_id, PushState outcome, absl::Time at) {
    const PushRecord p = AdmitNew(*store_.pushes, MakePush(b->row_id, request_id));
    EXPECT_TRUE(store_.pushes->RecordAttempt(Attempt(p.id, outcome, at)).ok());
  };
  ended("newer-old", PushState::kFailed, kT0 + absl::Seconds(2));
  ended("oldest", PushState::kSent, kT0 + absl::Seconds(1));
  ended("recent", PushState::kSent, kT0 + absl::Hours(1));
  // Pending for a long time, yet never deleted.
  AdmitNew(*store_.pushes, MakePush(b->row_id, "pending", kT0 - absl::Hours(48)));
  const auto exists = [&](const std::string& request_id) {
    return store_.pushes->Find(b->row_id, request_id).ok();
  };
  const absl::Time cutoff = kT0 + absl::Minutes(1);

  absl::StatusOr<int> deleted = store_.pushes->DeleteEndedBefore(cutoff, 1);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 1);
  EXPECT_FALSE(exists("oldest"));
  EXPECT_TRUE(exists("newer-old"));
  EXPECT_EQ(*store_.pushes->DeleteEndedBefore(cutoff, 10), 1);
  EXPECT_FALSE(exists("newer-old"));
  EXPECT_EQ(*store_.pushes->DeleteEndedBefore(cutoff, 10), 0);
  EXPECT_TRUE(exists("recent"));
  // The exact end time is not before itself.
  EXPECT_EQ(*store_.pushes->DeleteEndedBefore(kT0 + absl::Hours(1), 10), 0);
  EXPECT_EQ(*store_.pushes->DeleteEndedBefore(kT0 + absl::Hours(100), 10), 1);
  EXPECT_FALSE(exists("recent"));
  EXPECT_TRUE(exists("pending"));
}

TEST_P(StoreContractTest, ConcurrentAdmissionsOfOneRequestCreateOnePush) {
  absl::StatusOr<Binding> b = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(b.ok()) << b.status();
  constexpr int kThreads = 8;
  std::vector<absl::StatusOr<PushAdmission>> results(kThreads, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      PushRecord p = MakePush(b->row_id, "r1");
      p.request_digest = absl::StrCat("digest-", i);
      results[i] = store_.pushes->Admit(p);
    });
  }
  for (std::thread& t : threads) t.join();
  int created = 0;
  std::string winner_digest;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->push.id, results[0]->push.id);
    if (result->created) {
      ++created;
      winner_digest = result->push.request_digest;
    }
  }
  EXPECT_EQ(created, 1);
  for (const auto& result : results) EXPECT_EQ(result->push.request_digest, winner_digest);
}

}  // namespace
}  // namespace linechannel::storage
