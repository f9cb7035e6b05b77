// ListAuditEntries over real gRPC against the real channeld and the fake LINE platform: who
// changed a team's bindings and when, newest first, and nothing of other teams.

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/support/json_field.h"
#include "tests/support/sqlite_audit_trigger.h"

namespace linechannel::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class AuditTest : public ServiceTest {
 protected:
  // Every entry of the team's audit (of `channel` only, unless empty), page by page.
  std::vector<v1::AuditEntry> ReadAll(v1::ChannelService::Stub& stub, const std::string& team,
                                      const std::string& channel, int page_size, int* pages) {
    std::vector<v1::AuditEntry> seen;
    v1::ListAuditEntriesRequest request;
    request.set_team_id(team);
    request.set_channel_id(channel);
    request.set_page_size(page_size);
    *pages = 0;
    do {
      v1::ListAuditEntriesResponse response;
      const grpc::Status status = stub.ListAuditEntries(Context().get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      seen.insert(seen.end(), response.entries().begin(), response.entries().end());
      request.set_page_token(response.next_page_token());
      ++*pages;
    } while (!request.page_token().empty() && *pages < 100);
    return seen;
  }

  static std::vector<std::string> Actions(const std::vector<v1::AuditEntry>& entries) {
    std::vector<std::string> out;
    for (const v1::AuditEntry& e : entries)
      out.push_back(absl::StrCat(e.action(), " by ", e.actor()));
    return out;
  }
};

TEST_F(AuditTest, BindUpdateUnbindRebindAreFourEntriesNewestFirstOfTheTeamOnly) {
  auto support_token = channeld_->AddCaller("support-a", "team-a");
  ASSERT_TRUE(support_token.ok()) << support_token.status();
  auto support = channeld_->StubWithToken(*support_token);
  auto other_token = channeld_->AddCaller("inbox-b", "team-b");
  ASSERT_TRUE(other_token.ok()) << other_token.status();
  auto other = channeld_->StubWithToken(*other_token);

  v1::BindChannelResponse first;
  ASSERT_TRUE(
      support->BindChannel(Context().get(), BindRequestFor(Channel1(), "team-a"), &first).ok());
  v1::UpdateCredentialsRequest update;
  update.set_team_id("team-a");
  update.set_channel_id(Channel1().channel_id);
  v1::UpdateCredentialsResponse updated;
  // The secret is reissued in the console; the admin stores the new one.
  auto reissued = line_->Control("PATCH", "/fake/channels/" + Channel1().channel_id,
                                 R"({"reissue_secret":true})");
  ASSERT_TRUE(reissued.ok());
  const std::string new_secret = JsonField(reissued->body, "/channel_secret");
  update.set_channel_secret(new_secret);
  grpc::Status status = channeld_->stub().UpdateCredentials(Context().get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::UnbindChannelRequest unbind;
  unbind.set_team_id("team-a");
  unbind.set_channel_id(Channel1().channel_id);
  v1::UnbindChannelResponse unbound;
  ASSERT_TRUE(support->UnbindChannel(Context().get(), unbind, &unbound).ok());
  v1::BindChannelRequest rebind = BindRequestFor(Channel1(), "team-a");
  rebind.set_channel_secret(new_secret);
  v1::BindChannelResponse second;
  status = channeld_->stub().BindChannel(Context().get(), rebind, &second);
  ASSERT_TRUE(status.ok()) << status.error_message();

  int pages = 0;
  const std::vector<v1::AuditEntry> all = ReadAll(*support, "team-a", "", 0, &pages);
  EXPECT_EQ(pages, 1);
  EXPECT_THAT(Actions(all), ElementsAre("bind by admin", "unbind by support-a",
                                        "update_credentials by admin", "bind by support-a"));
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].binding_id(), second.channel().binding_id());
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(all[i].binding_id(), first.channel().binding_id()) << i;
    // Newest first, by time too.
    EXPECT_GE(all[i - 1].time().seconds(), all[i].time().seconds()) << i;
  }
  for (const v1::AuditEntry& e : all) {
    EXPECT_EQ(e.channel_id(), Channel1().channel_id);
    EXPECT_GT(e.time().seconds(), 0);
    // Never a secret or a token, old or new.
    for (const std::string& secret : {Channel1().secret, Channel1().token, new_secret}) {
      EXPECT_THAT(e.detail(), Not(HasSubstr(secret)));
      EXPECT_THAT(e.DebugString(), Not(HasSubstr(secret)));
    }
  }
  EXPECT_THAT(all[2].detail(), HasSubstr("channel_secret"));

  // Paging: one entry a page, the same entries in the same order.
  const std::vector<v1::AuditEntry> paged = ReadAll(*support, "team-a", "", 1, &pages);
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(Actions(paged), Actions(all));
  // The channel filter; a channel the team never bound has no entries.
  EXPECT_EQ(Actions(ReadAll(*support, "team-a", Channel1().channel_id, 3, &pages)), Actions(all));
  EXPECT_EQ(pages, 2);
  EXPECT_THAT(ReadAll(*support, "team-a", Channel2().channel_id, 0, &pages), IsEmpty());

  // Another team sees none of it: its own (empty) audit, and no way into team-a's.
  EXPECT_THAT(ReadAll(*other, "team-b", "", 0, &pages), IsEmpty());
  EXPECT_THAT(ReadAll(*other, "team-b", Channel1().channel_id, 0, &pages), IsEmpty());
  v1::ListAuditEntriesRequest foreign;
  foreign.set_team_id("team-a");
  v1::ListAuditEntriesResponse response;
  status = other->ListAuditEntries(Context().get(), foreign, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Reason(status), "TEAM_NOT_ALLOWED");
}

TEST_F(AuditTest, BadRequestsNameEveryBadField) {
  v1::ListAuditEntriesRequest request;
  request.set_team_id("team a");
  request.set_channel_id("abc");
  request.set_page_size(1001);
  request.set_page_token("not-a-token");
  v1::ListAuditEntriesResponse response;
  grpc::Status status = channeld_->stub().ListAuditEntries(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolatedFields(status),
              ElementsAre("team_id", "channel_id", "page_size", "page_token"));

  // A ListChannels page token is not an audit page token.
  for (const FixtureChannel* c : {&Channel1(), &Channel2()}) {
    v1::BindChannelResponse bound;
    ASSERT_TRUE(
        channeld_->stub().BindChannel(Context().get(), BindRequestFor(*c, "team-a"), &bound).ok());
  }
  v1::ListChannelsRequest list;
  list.set_team_id("team-a");
  list.set_page_size(1);
  v1::ListChannelsResponse listed;
  ASSERT_TRUE(channeld_->stub().ListChannels(Context().get(), list, &listed).ok());
  ASSERT_FALSE(listed.next_page_token().empty());
  request = {};
  request.set_team_id("team-a");
  request.set_page_token(listed.next_page_token());
  status = channeld_->stub().ListAuditEntries(Context().get(), request, &response);
  EXPECT_THAT(ViolatedFields(status), ElementsAre("page_token"));
}

// A change and its audit row are one transaction: with channeld's database refusing audit rows
// (a trigger put on its file from outside), a bind fails as INTERNAL and leaves no binding, and
// an unbind fails and leaves the binding active. Without the trigger both succeed, with one
// audit entry each.
TEST_F(AuditTest, AChangeWhoseAuditRowFailsIsInternalAndLeavesNothing) {
  v1::BindChannelResponse first;
  ASSERT_TRUE(channeld_->stub()
                  .BindChannel(Context().get(), BindRequestFor(Channel1(), "team-a"), &first)
                  .ok());
  ASSERT_TRUE(RefuseSqliteAuditRows(channeld_->db_path(), true).ok());

  v1::BindChannelResponse refused;
  grpc::Status status = channeld_->stub().BindChannel(
      Context().get(), BindRequestFor(Channel2(), "team-a"), &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL) << Answer(status);
  v1::GetChannelRequest get;
  get.set_team_id("team-a");
  get.set_channel_id(Channel2().channel_id);
  v1::Channel channel;
  status = channeld_->stub().GetChannel(Context().get(), get, &channel);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Answer(status);

  v1::UnbindChannelRequest unbind;
  unbind.set_team_id("team-a");
  unbind.set_channel_id(Channel1().channel_id);
  v1::UnbindChannelResponse unbound;
  status = channeld_->stub().UnbindChannel(Context().get(), unbind, &unbound);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL) << Answer(status);

  v1::ListChannelsRequest list;
  list.set_team_id("team-a");
  list.set_include_unbound(true);
  v1::ListChannelsResponse listed;
  ASSERT_TRUE(channeld_->stub().ListChannels(Context().get(), list, &listed).ok());
  ASSERT_EQ(listed.channels_size(), 1);
  EXPECT_EQ(listed.channels(0).channel_id(), Channel1().channel_id);
  EXPECT_EQ(listed.channels(0).state(), v1::ACTIVE);
  int pages = 0;
  EXPECT_THAT(Actions(ReadAll(channeld_->stub(), "team-a", "", 100, &pages)),
              ElementsAre("bind by admin"));

  ASSERT_TRUE(RefuseSqliteAuditRows(channeld_->db_path(), false).ok());
  status = channeld_->stub().BindChannel(Context().get(), BindRequestFor(Channel2(), "team-a"),
                                         &refused);
  ASSERT_TRUE(status.ok()) << Answer(status);
  status = channeld_->stub().UnbindChannel(Context().get(), unbind, &unbound);
  ASSERT_TRUE(status.ok()) << Answer(status);
  EXPECT_THAT(Actions(ReadAll(channeld_->stub(), "team-a", "", 100, &pages)),
              ElementsAre("unbind by admin", "bind by admin", "bind by admin"));
}

}  // namespace
}  // namespace linechannel::testing
