// Storage faults injected into a running channeld_test_hooks (channeld plus its test hooks,
// tests/support/channeld_test_hooks.cc), or a write lock another process holds past the busy
// timeout: every affected webhook gets 503 and every write RPC a retryable error, nothing
// unstored is acknowledged, and the service recovers by itself once the fault clears.

#include <grpcpp/grpcpp.h>

#include <memory>

#include "SQLiteCpp/Database.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/support/json_field.h"

namespace linechannel::testing {
namespace {

constexpr char kTeam[] = "team-a";

class StorageFaultTest : public ServiceTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::vector<std::string> Flags() override {
    return {"--enable_test_hooks", "--store_busy_timeout=300ms"};
  }
  std::string Binary() override { return CHANNELD_TEST_HOOKS_PATH; }

  // "lock_held" is a real one: another connection holds the write lock until "none".
  void SetFault(const std::string& fault) {
    if (fault == "lock_held") {
      blocker_ = std::make_unique<SQLite::Database>(channeld_->db_path(), SQLite::OPEN_READWRITE);
      blocker_->exec("BEGIN IMMEDIATE");
      return;
    }
    if (fault == "none" && blocker_ != nullptr) {
      blocker_->exec("ROLLBACK");
      blocker_.reset();
      return;
    }
    auto set = HttpCall("POST", absl::StrCat("http://", channeld_->admin_address(),
                                             "/test/storage_fault?fault=", fault));
    ASSERT_TRUE(set.ok() && set->status == 200) << fault;
  }

  int PostEvent(const std::string& url, const std::string& id) {
    return PostSignedWebhookStatus(url, Channel1().secret,
                                   WebhookBody(Channel1().bot_user_id, MessageEventJson(id)));
  }

  int StoredEvents() { return static_cast<int>(ListAllEvents(channeld_->stub(), kTeam).size()); }

  std::unique_ptr<SQLite::Database> blocker_;
};

bool HasRetryInfo(const grpc::Status& status) {
  google::rpc::Status details;
  details.ParseFromString(status.error_details());
  for (const auto& any : details.details()) {
    if (any.Is<google::rpc::RetryInfo>()) return true;
  }
  return false;
}

TEST_P(StorageFaultTest, NothingUnstoredIsAcknowledgedAndTheServiceRecovers) {
  v1::BindChannelResponse bound;
  ASSERT_TRUE(channeld_->stub()
                  .BindChannel(Context().get(), BindRequestFor(Channel1(), kTeam), &bound)
                  .ok());
  const std::string url = bound.channel().webhook_url();
  ASSERT_EQ(PostEvent(url, "01JBEFOREFAULT"), 200);

  SetFault(GetParam());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(PostEvent(url, absl::StrCat("01JDURINGFAULT", i)), 503) << GetParam();
  }
  v1::BindChannelResponse refused;
  grpc::Status status =
      channeld_->stub().BindChannel(Context().get(), BindRequestFor(Channel2(), kTeam), &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(Reason(status), "STORAGE_UNAVAILABLE");
  EXPECT_TRUE(HasRetryInfo(status));
  v1::UnbindChannelRequest unbind;
  unbind.set_team_id(kTeam);
  unbind.set_channel_id(Channel1().channel_id);
  v1::UnbindChannelResponse unbound;
  status = channeld_->stub().UnbindChannel(Context().get(), unbind, &unbound);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  // Reads still work while writes fail.
  EXPECT_EQ(StoredEvents(), 1);

  SetFault("none");
  // It recovers by itself: the next attempts succeed without a restart.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  int answer = 0;
  while ((answer = PostEvent(url, "01JAFTERFAULT")) != 200 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(answer, 200);
  EXPECT_EQ(StoredEvents(), 2);  // Nothing of what got 503 was stored.
  ASSERT_TRUE(channeld_->stub()
                  .BindChannel(Context().get(), BindRequestFor(Channel2(), kTeam), &refused)
                  .ok());
  v1::GetChannelRequest get;
  get.set_team_id(kTeam);
  get.set_channel_id(Channel1().channel_id);
  v1::Channel channel;
  ASSERT_TRUE(channeld_->stub().GetChannel(Context().get(), get, &channel).ok());
  EXPECT_EQ(channel.state(), v1::ACTIVE);  // The refused unbind left the binding as it was.

  ASSERT_TRUE(channeld_->Stop().ok());
  SQLite::Database db(channeld_->db_path(), SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
}

INSTANTIATE_TEST_SUITE_P(EveryFault, StorageFaultTest,
                         ::testing::Values("disk_full", "io_error", "read_only", "lock_held"));

}  // namespace
}  // namespace linechannel::testing
