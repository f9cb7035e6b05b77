// The store contract's promise that a change and its audit row are one transaction
// (binding_store.h): with the database refusing audit rows (StoreUnderTest::RefuseAuditRows),
// every change that writes one fails and leaves the bindings, their sealed values, events and
// audit trail exactly as they were, also as read through a cache; once audit rows are taken
// again, the same change succeeds with exactly one audit row. Compiled into each store's
// contract test binary, like store_contract.cc.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "tests/storage/make_binding.h"
#include "tests/storage/store_contract.h"

namespace linechannel::storage {
namespace {

using ::testing::ElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

std::string Describe(const absl::Time& t) { return absl::FormatTime(t); }
std::string Describe(const SealedValue& v) { return absl::StrCat(v.key_id, "/", v.ciphertext); }

std::string Describe(const Binding& b) {
  return absl::StrCat(b.row_id, " ", b.binding_id, " ", b.team_id, " ", b.channel_id, " ",
                      b.webhook_key, " secret=", Describe(b.channel_secret), " ",
                      b.channel_secret_hint, " token=", Describe(b.access_token), " ",
                      b.access_token_hint,
                      " credentials_updated=", Describe(b.credentials_updated_at),
                      " unbound=", b.unbound_at ? Describe(*b.unbound_at) : "no", " ", b.unbound_by,
                      " attention=", absl::StrJoin(b.attention_reasons, ","));
}

// Everything a failed change could have touched, as the store's callers read it: the team's
// bindings (active and unbound), each lookup of `look_up` by channel and by webhook key (which
// a cache may answer), the sealed values, the events and the audit trail.
std::string Snapshot(const Store& store, const std::vector<Binding>& look_up) {
  std::vector<std::string> lines;
  absl::StatusOr<BindingPage> page = store.bindings->ListTeam("t1", true, 0, 100);
  lines.push_back(page.ok() ? "" : page.status().ToString());
  if (page.ok()) {
    for (const Binding& b : page->bindings) lines.push_back("listed " + Describe(b));
  }
  for (const Binding& b : look_up) {
    absl::StatusOr<Binding> by_channel = store.bindings->FindActive(b.team_id, b.channel_id);
    lines.push_back(
        absl::StrCat("channel ", b.channel_id, ": ",
                     by_channel.ok() ? Describe(*by_channel) : by_channel.status().ToString()));
    absl::StatusOr<Binding> by_key = store.bindings->FindActiveByWebhookKey(b.webhook_key);
    lines.push_back(absl::StrCat("key ", b.webhook_key, ": ",
                                 by_key.ok() ? Describe(*by_key) : by_key.status().ToString()));
  }
  absl::StatusOr<std::vector<SealedRow>> sealed = store.sealed->ListSealed(0, 100);
  lines.push_back(sealed.ok() ? "" : sealed.status().ToString());
  if (sealed.ok()) {
    for (const SealedRow& r : *sealed) {
      lines.push_back(absl::StrCat("sealed ", r.row_id, " ", Describe(r.channel_secret), " ",
                                   Describe(r.access_token)));
    }
  }
  absl::StatusOr<std::vector<StoredEvent>> events = store.events->ReadEvents({"t1", "", 0, 100});
  lines.push_back(events.ok() ? "" : events.status().ToString());
  if (events.ok()) {
    for (const StoredEvent& e : *events) {
      lines.push_back(absl::StrCat("event ", e.cursor, " ", e.channel_id, " ", e.event.raw_json));
    }
  }
  absl::StatusOr<AuditPage> audit = store.bindings->ListTeamAudit("t1", "", 0, 100);
  lines.push_back(audit.ok() ? "" : audit.status().ToString());
  if (audit.ok()) {
    for (const AuditRecord& r : audit->records) {
      lines.push_back(absl::StrCat("audit ", r.id, " ", r.channel_id, " ", r.action));
    }
  }
  return absl::StrJoin(lines, "\n");
}

// The actions of the audit rows of binding `row_id`, oldest first.
std::vector<std::string> AuditActions(const Store& store, int64_t row_id) {
  absl::StatusOr<std::vector<AuditRecord>> audit = store.bindings->ListAudit(row_id);
  EXPECT_TRUE(audit.ok()) << audit.status();
  std::vector<std::string> actions;
  if (audit.ok()) {
    for (const AuditRecord& r : *audit) actions.push_back(r.action);
  }
  return actions;
}

TEST_P(StoreContractTest, ABindWhoseAuditRowFailsStoresNothing) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(Append(*a, {Event("ev1"), Event("ev2")}).ok());
  const Binding& bound = *a;
  const Binding b = MakeBinding("t1", "200");
  const std::string before = Snapshot(store_, {bound, b});
  ASSERT_TRUE(owner_->RefuseAuditRows(true).ok());

  Binding conflict;
  conflict.row_id = -1;
  absl::StatusOr<Binding> refused = Insert(b, &conflict);
  EXPECT_TRUE(absl::IsInternal(refused.status())) << refused.status();
  EXPECT_EQ(conflict.row_id, -1) << "a failed audit row is not a conflict";
  EXPECT_EQ(Snapshot(store_, {bound, b}), before);

  // Nothing of the failed bind is left: not even its webhook key, which is never reused.
  ASSERT_TRUE(owner_->RefuseAuditRows(false).ok());
  absl::StatusOr<Binding> stored = Insert(b);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_THAT(AuditActions(store_, stored->row_id), ElementsAre("bind"));
}

TEST_P(StoreContractTest, AnUnbindWhoseAuditRowFailsLeavesTheBindingActive) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(Append(*a, {Event("ev1"), Event("ev2")}).ok());
  const Binding& bound = *a;
  const std::string before = Snapshot(store_, {bound});
  ASSERT_TRUE(owner_->RefuseAuditRows(true).ok());

  absl::StatusOr<Binding> refused = store_.bindings->MarkUnbound("t1", "100", {"op", kT0, ""});
  EXPECT_TRUE(absl::IsInternal(refused.status())) << refused.status();
  EXPECT_EQ(Snapshot(store_, {bound}), before);

  ASSERT_TRUE(owner_->RefuseAuditRows(false).ok());
  absl::StatusOr<Binding> unbound = store_.bindings->MarkUnbound("t1", "100", {"op", kT0, ""});
  ASSERT_TRUE(unbound.ok()) << unbound.status();
  EXPECT_FALSE(unbound->active());
  EXPECT_THAT(AuditActions(store_, bound.row_id), ElementsAre("bind", "unbind"));
}

TEST_P(StoreContractTest, ACredentialUpdateWhoseAuditRowFailsKeepsTheOldCredentials) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(Append(*a, {Event("ev1"), Event("ev2")}).ok());
  const Binding& bound = *a;
  CredentialUpdate update;
  update.channel_secret = SealedValue{"k2", "new-secret"};
  update.channel_secret_hint = "…0000";
  update.access_token = SealedValue{"k2", "new-token"};
  update.access_token_hint = "…9999";
  const std::string before = Snapshot(store_, {bound});
  ASSERT_TRUE(owner_->RefuseAuditRows(true).ok());

  absl::StatusOr<Binding> refused = store_.bindings->ReplaceCredentials(
      bound.row_id, update, {"op", kT0 + absl::Minutes(1), "secret,token"});
  EXPECT_TRUE(absl::IsInternal(refused.status())) << refused.status();
  EXPECT_EQ(Snapshot(store_, {bound}), before);
  absl::StatusOr<std::map<std::string, int64_t>> by_key = store_.sealed->CountSealedByKey();
  ASSERT_TRUE(by_key.ok()) << by_key.status();
  EXPECT_EQ(*by_key, (std::map<std::string, int64_t>{{"k1", 2}}));

  ASSERT_TRUE(owner_->RefuseAuditRows(false).ok());
  absl::StatusOr<Binding> updated = store_.bindings->ReplaceCredentials(
      bound.row_id, update, {"op", kT0 + absl::Minutes(1), "secret,token"});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->channel_secret, (SealedValue{"k2", "new-secret"}));
  EXPECT_THAT(AuditActions(store_, bound.row_id), ElementsAre("bind", "update_credentials"));
}

// A refused audit row fails only the change it belongs to: webhook events and pushes, which
// write none, go on.
TEST_P(StoreContractTest, ChangesWithoutAuditRowsGoOnWhileAuditRowsAreRefused) {
  absl::StatusOr<Binding> a = Insert(MakeBinding("t1", "100"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(Append(*a, {Event("ev1"), Event("ev2")}).ok());
  const Binding& bound = *a;
  ASSERT_TRUE(owner_->RefuseAuditRows(true).ok());
  absl::StatusOr<AppendResult> appended = Append(bound, {Event("ev3")});
  ASSERT_TRUE(appended.ok()) << appended.status();
  EXPECT_EQ(Read("t1").size(), 3u);
  absl::StatusOr<PushAdmission> admitted = store_.pushes->Admit(MakePush(bound.row_id, "r1"));
  ASSERT_TRUE(admitted.ok()) << admitted.status();
  EXPECT_TRUE(admitted->created);
  ASSERT_TRUE(owner_->RefuseAuditRows(false).ok());
}

}  // namespace
}  // namespace linechannel::storage
