#include "server/messaging/push_sender.h"

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/base/errors.h"
#include "server/crypto/key_ring.h"
#include "server/crypto/sealing_contexts.h"
#include "server/messaging/line_call.h"
#include "server/messaging/push_identity.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/server/fakes.h"
#include "tests/storage/make_binding.h"
#include "tests/support/temp_dir.h"

namespace linechannel::server {
namespace {

using storage::PushRecord;
using storage::PushState;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kToken[] = "the-binding's-access-token";

// LINE's push endpoint answering from a script, one answer per call (then success).
class ScriptedPushApi : public LineMessagingApi {
 public:
  void Then(absl::StatusOr<LineSendResult> answer) {
    absl::MutexLock lock(&mu_);
    script_.push_back(std::move(answer));
  }
  std::vector<std::string> retry_keys() {
    absl::MutexLock lock(&mu_);
    return retry_keys_;
  }

  absl::StatusOr<LineSendResult> Push(const Secret& token, const std::string&, const std::string&,
                                      bool, const std::string& retry_key, absl::Time) override {
    absl::MutexLock lock(&mu_);
    EXPECT_EQ(token.Reveal(), kToken);
    retry_keys_.push_back(retry_key);
    if (script_.empty()) return LineSendResult{{{"msg-1", "quote-1"}}, "req-ok", false};
    absl::StatusOr<LineSendResult> answer = std::move(script_.front());
    script_.pop_front();
    return answer;
  }
  absl::StatusOr<LineSendResult> Reply(const Secret&, const std::string&, const std::string&, bool,
                                       absl::Time) override {
    return absl::UnimplementedError("not in this test");
  }
  absl::StatusOr<LineProfile> GetProfile(const Secret&, const std::string&, const std::string&,
                                         absl::Time) override {
    return absl::UnimplementedError("not in this test");
  }
  absl::StatusOr<LineQuota> GetQuota(const Secret&, absl::Time) override {
    return absl::UnimplementedError("not in this test");
  }
  absl::Status MarkAsRead(const Secret&, const std::string&, absl::Time) override {
    return absl::UnimplementedError("not in this test");
  }
  absl::Status ShowLoadingAnimation(const Secret&, const std::string&, int, absl::Time) override {
    return absl::UnimplementedError("not in this test");
  }
  absl::Status GetContent(const Secret&, const std::string&, const ContentSink&,
                          absl::Time) override {
    return absl::UnimplementedError("not in this test");
  }

 private:
  absl::Mutex mu_;
  std::deque<absl::StatusOr<LineSendResult>> script_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> retry_keys_ ABSL_GUARDED_BY(mu_);
};

class PushSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteStore::Options options;
    options.path = dir_.File("test.db");
    store_ = *storage::SqliteStore::Open(options);
    sealer_ = std::make_unique<SecretSealer>(KeyRing::Generate(random_), &random_);
    storage::Binding binding = storage::MakeBinding("team-a", "1656000001");
    binding.access_token = *sealer_->Seal(Secret(kToken), TokenContext(binding.channel_id));
    binding_ = *store_->InsertActive(binding, {"tester", clock_.Now(), ""}, nullptr);
    sender_ = std::make_unique<PushSender>(store_.get(), store_.get(), store_.get(), &line_,
                                           sealer_.get(), &clock_, &metrics_, Options());
  }

  static PushSender::Options Options() {
    PushSender::Options options;
    options.poll = absl::Milliseconds(10);
    return options;
  }

  // A push admitted now and leased to the test.
  PushRecord Admit(const std::string& request_id) {
    PushRecord push;
    push.binding_row_id = binding_.row_id;
    push.request_id = request_id;
    push.retry_key = PushRetryKey(binding_.binding_id, request_id);
    push.request_digest = PushDigest("U1", "[]", false);
    push.to = "U" + std::string(32, 'a');
    push.messages_json = R"([{"type":"text","text":"hello"}])";
    push.accepted_at = clock_.Now();
    push.next_attempt_at = clock_.Now();
    push.lease_until = clock_.Now() + absl::Seconds(30);
    return store_->Admit(push)->push;
  }

  PushRecord Attempt(const PushRecord& push) {
    absl::StatusOr<PushRecord> after =
        sender_->Attempt(push, binding_, clock_.Now() + absl::Seconds(10));
    EXPECT_TRUE(after.ok()) << after.status();
    return after.ok() ? *after : PushRecord{};
  }

  // Leases the due pushes as a retry thread would.
  std::vector<PushRecord> LeaseDue() {
    return *store_->LeaseDue(clock_.Now(), clock_.Now() + absl::Seconds(30), 10);
  }

  testing::TempDir dir_;
  FakeClock clock_;
  CountingRandom random_;
  Metrics metrics_;
  ScriptedPushApi line_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<SecretSealer> sealer_;
  storage::Binding binding_;
  std::unique_ptr<PushSender> sender_;
};

TEST_F(PushSenderTest, AnAcceptedPushEndsSentAndForgetsItsText) {
  const PushRecord push = Attempt(Admit("r1"));
  EXPECT_EQ(push.state, PushState::kSent);
  EXPECT_EQ(push.line_request_id, "req-ok");
  EXPECT_THAT(push.sent_messages_json, HasSubstr("msg-1"));
  EXPECT_EQ(push.messages_json, "");
  EXPECT_TRUE(push.finished_at.has_value());
}

TEST_F(PushSenderTest, AnAlreadyAcceptedRetryKeyCountsAsSent) {
  line_.Then(LineSendResult{{}, "accepted-req", true});
  const PushRecord push = Attempt(Admit("r1"));
  EXPECT_EQ(push.state, PushState::kSent);
  EXPECT_EQ(push.line_request_id, "accepted-req");
}

TEST_F(PushSenderTest, AnUnknownOutcomeIsRetriedWithBackoffAndTheSameKey) {
  line_.Then(ReasonedError(absl::StatusCode::kUnknown, reason::kOutcomeUnknown, "LINE said 500"));
  line_.Then(ReasonedError(absl::StatusCode::kUnavailable, reason::kLineUnavailable, "refused"));
  PushRecord push = Attempt(Admit("r1"));
  EXPECT_EQ(push.state, PushState::kPending);
  EXPECT_EQ(push.failure_reason, "OUTCOME_UNKNOWN");
  EXPECT_EQ(push.messages_json, R"([{"type":"text","text":"hello"}])");
  EXPECT_GE(push.next_attempt_at, clock_.Now() + absl::Milliseconds(500));
  EXPECT_LE(push.next_attempt_at, clock_.Now() + absl::Milliseconds(1500));
  // Not due yet: nobody takes it.
  EXPECT_TRUE(LeaseDue().empty());

  clock_.Advance(absl::Seconds(2));
  std::vector<PushRecord> due = LeaseDue();
  ASSERT_EQ(due.size(), 1u);
  push = Attempt(due[0]);
  EXPECT_EQ(push.state, PushState::kPending);
  // The second wait is about twice the first.
  EXPECT_GE(push.next_attempt_at, clock_.Now() + absl::Seconds(1));
  EXPECT_LE(push.next_attempt_at, clock_.Now() + absl::Seconds(3));

  clock_.Advance(absl::Seconds(4));
  due = LeaseDue();
  ASSERT_EQ(due.size(), 1u);
  push = Attempt(due[0]);
  EXPECT_EQ(push.state, PushState::kSent);
  const std::string key = PushRetryKey(binding_.binding_id, "r1");
  EXPECT_THAT(line_.retry_keys(), ElementsAre(key, key, key));
}

TEST_F(PushSenderTest, RateLimitsWaitAtLeastAsLongAsLineAsks) {
  line_.Then(WithRetryDelay(
      ReasonedError(absl::StatusCode::kResourceExhausted, reason::kLineRateLimited, "429"),
      absl::Seconds(7)));
  const PushRecord push = Attempt(Admit("r1"));
  EXPECT_EQ(push.state, PushState::kPending);
  EXPECT_EQ(push.failure_reason, "LINE_RATE_LIMITED");
  EXPECT_GE(push.next_attempt_at, clock_.Now() + absl::Seconds(7));
  EXPECT_LE(push.next_attempt_at, clock_.Now() + absl::Milliseconds(10500));
}

TEST_F(PushSenderTest, ARefusalForGoodEndsThePushWithItsReason) {
  line_.Then(ReasonedError(absl::StatusCode::kFailedPrecondition, reason::kRecipientUnavailable,
                           "Failed to send messages"));
  const PushRecord push = Attempt(Admit("r1"));
  EXPECT_EQ(push.state, PushState::kFailed);
  EXPECT_EQ(push.failure_reason, "RECIPIENT_UNAVAILABLE");
  EXPECT_THAT(push.failure_message, HasSubstr("Failed to send messages"));
  EXPECT_EQ(push.messages_json, "");
}

TEST_F(PushSenderTest, ARejectedTokenEndsThePushAndMarksTheBinding) {
  line_.Then(ReasonedError(absl::StatusCode::kUnauthenticated, reason::kTokenRejected,
                           "LINE answered 401"));
  const PushRecord push = Attempt(Admit("r1"));
  EXPECT_EQ(push.state, PushState::kFailed);
  EXPECT_EQ(push.failure_reason, "TOKEN_REJECTED");
  const storage::Binding marked = *store_->FindActive("team-a", "1656000001");
  EXPECT_THAT(marked.attention_reasons, ElementsAre(kTokenRejectedAttention));
}

TEST_F(PushSenderTest, APushStillUnsentAfterADayGivesUpBeforeLineForgetsItsKey) {
  const PushRecord admitted = Admit("r1");
  clock_.Advance(absl::Hours(23));
  line_.Then(ReasonedError(absl::StatusCode::kUnknown, reason::kOutcomeUnknown, "LINE said 500"));
  const PushRecord push = Attempt(admitted);
  EXPECT_EQ(push.state, PushState::kFailed);
  EXPECT_EQ(push.failure_reason, "LINE_UNAVAILABLE");
  EXPECT_THAT(push.failure_message, HasSubstr("24 hours"));
}

TEST_F(PushSenderTest, RetryThreadsFinishDuePushesAndFailThoseOfUnboundOas) {
  line_.Then(ReasonedError(absl::StatusCode::kUnknown, reason::kOutcomeUnknown, "LINE said 500"));
  const PushRecord pending = Attempt(Admit("r1"));
  ASSERT_EQ(pending.state, PushState::kPending);
  clock_.Advance(absl::Seconds(2));
  sender_->Start();
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (store_->Find(binding_.row_id, "r1")->state == PushState::kPending &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(store_->Find(binding_.row_id, "r1")->state, PushState::kSent);
  sender_->Stop();

  // A push whose OA was unbound meanwhile ends without calling LINE.
  PushRecord orphan = Admit("r2");
  ASSERT_TRUE(store_->MarkUnbound("team-a", "1656000001", {"tester", clock_.Now(), ""}).ok());
  clock_.Advance(absl::Seconds(31));
  auto sender = std::make_unique<PushSender>(store_.get(), store_.get(), store_.get(), &line_,
                                             sealer_.get(), &clock_, &metrics_, Options());
  sender->Start();
  const absl::Time give_up_again = absl::Now() + absl::Seconds(10);
  while (store_->Find(binding_.row_id, "r2")->state == PushState::kPending &&
         absl::Now() < give_up_again) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  sender->Stop();
  orphan = *store_->Find(binding_.row_id, "r2");
  EXPECT_EQ(orphan.state, PushState::kFailed);
  EXPECT_EQ(orphan.failure_reason, "BINDING_NOT_FOUND");
  EXPECT_EQ(line_.retry_keys().size(), 2u);
}

}  // namespace
}  // namespace linechannel::server
