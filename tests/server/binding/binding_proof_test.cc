// BindingProof: an unverified binding (bound while LINE was unreachable) proved afterwards,
// against the fake LINE API and a real SQLite store behind the binding cache.

#include "server/binding/binding_proof.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/binding/binding_health.h"
#include "server/binding/binding_service.h"
#include "storage/cache/caching_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/server/fakes.h"
#include "tests/support/temp_dir.h"

namespace linechannel::server {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::StartsWith;

constexpr char kChannel[] = "1656000001";
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";
constexpr char kToken[] = "long-lived-token-of-channel-one-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
constexpr char kBotUser[] = "U0123456789abcdef0123456789abcdef";

class BindingProofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    line_.AddChannel(kChannel, {kSecret, kToken, {kBotUser, "@123abcde", "", "Shop A"}});
    storage::SqliteStore::Options options;
    options.path = dir_.File("test.db");
    store_ = *storage::SqliteStore::Open(options);
    cache_ = std::make_unique<storage::CachingStore>(storage::AllRolesOf(*store_), 1000);
    sealer_ = std::make_unique<SecretSealer>(KeyRing::Generate(random_), &random_);
    verifier_ = std::make_unique<BindingVerifier>(&line_, LineChecks::kBestEffort);
    checks_ = std::make_unique<LineWebhookSettings>(
        &line_, cache_.get(), store_.get(), cache_.get(), sealer_.get(), &clock_,
        LineWebhookSettings::Options{});
    service_ = std::make_unique<BindingService>(cache_.get(), verifier_.get(), checks_.get(),
                                                sealer_.get(), &random_, &clock_,
                                                BindingService::Options{"https://hooks.example"});
    proof_ = std::make_unique<BindingProof>(cache_.get(), verifier_.get(), sealer_.get(), &clock_);
  }

  // Binds while LINE is down: unverified.
  storage::Binding BindUnverified(const std::string& line_id = "@123abcde") {
    line_.FailEveryCall(absl::UnavailableError("LINE is down"));
    BindRequest r;
    r.team_id = "team-a";
    r.app_name = "Shop A app";
    r.channel_id = kChannel;
    r.channel_secret = Secret(kSecret);
    r.access_token = Secret(kToken);
    r.line_id = line_id;
    absl::StatusOr<BindResult> bound =
        service_->Bind(r, CallContext{"tester", absl::InfiniteFuture()});
    EXPECT_TRUE(bound.ok()) << bound.status();
    EXPECT_FALSE(bound->binding.verified_with_line);
    line_.FailEveryCall(absl::OkStatus());
    return bound->binding;
  }

  storage::Binding Stored() { return *cache_->FindActive("team-a", kChannel); }

  testing::TempDir dir_;
  FakeLineApi line_;
  FakeClock clock_;
  OpenSslRandom random_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<storage::CachingStore> cache_;
  std::unique_ptr<SecretSealer> sealer_;
  std::unique_ptr<BindingVerifier> verifier_;
  std::unique_ptr<LineWebhookSettings> checks_;
  std::unique_ptr<BindingService> service_;
  std::unique_ptr<BindingProof> proof_;
};

TEST_F(BindingProofTest, LineStillDownIsUnavailableAndChangesNothing) {
  const storage::Binding bound = BindUnverified();
  line_.FailEveryCall(absl::UnavailableError("LINE is down"));
  absl::StatusOr<BindingProof::Outcome> outcome = proof_->Prove(bound, absl::InfiniteFuture());
  EXPECT_TRUE(absl::IsUnavailable(outcome.status())) << outcome.status();
  EXPECT_FALSE(Stored().verified_with_line);
  EXPECT_THAT(Stored().attention_reasons, IsEmpty());
}

TEST_F(BindingProofTest, LinesYesRecordsTheProofOnce) {
  const storage::Binding bound = BindUnverified();
  absl::StatusOr<BindingProof::Outcome> outcome = proof_->Prove(bound, absl::InfiniteFuture());
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, BindingProof::Outcome::kProved);
  const storage::Binding proved = Stored();
  EXPECT_TRUE(proved.verified_with_line);
  EXPECT_EQ(proved.bot_user_id, kBotUser);
  EXPECT_EQ(proved.bot_display_name, "Shop A");
  EXPECT_EQ(HealthOf(proved).state, BindingState::kActive);
  auto audit = service_->Audit(proved);
  ASSERT_TRUE(audit.ok());
  ASSERT_THAT(*audit, SizeIs(2));
  EXPECT_EQ((*audit)[1].detail, "verified by re-check");
  EXPECT_EQ((*audit)[1].actor, BindingProof::kActor);
  // A second proof of the same binding (another replica, a stale list) finds nothing to do.
  EXPECT_EQ(*proof_->Prove(bound, absl::InfiniteFuture()), BindingProof::Outcome::kGone);
  EXPECT_THAT(*service_->Audit(proved), SizeIs(2));
}

TEST_F(BindingProofTest, LinesNoNeedsAttentionWithTheBindTimeReasonAndVerifyWebhookKeepsIt) {
  const storage::Binding bound = BindUnverified("@someone-else");
  EXPECT_EQ(*proof_->Prove(bound, absl::InfiniteFuture()), BindingProof::Outcome::kRejected);
  storage::Binding stored = Stored();
  EXPECT_FALSE(stored.verified_with_line);
  EXPECT_TRUE(stored.bot_user_id.empty());
  EXPECT_EQ(HealthOf(stored).state, BindingState::kNeedsAttention);
  ASSERT_THAT(stored.attention_reasons, SizeIs(1));
  EXPECT_THAT(stored.attention_reasons[0],
              StartsWith("Not verified with LINE (LINE_ID_MISMATCH): LINE ID @someone-else"));

  // VerifyWebhook proves nothing about the five values: it must not clear LINE's "no".
  ASSERT_TRUE(
      service_->VerifyWebhook("team-a", kChannel, CallContext{"tester", absl::InfiniteFuture()})
          .ok());
  EXPECT_THAT(Stored().attention_reasons,
              Contains(HasSubstr("Not verified with LINE (LINE_ID_MISMATCH)")));
}

TEST_F(BindingProofTest, AnOaBoundByAnotherTeamIsNeverMadeActive) {
  const storage::Binding bound = BindUnverified();
  // Another team's binding already holds the OA's bot (possible only for values LINE never
  // checked; the bot user id's unique index is what decides).
  storage::Binding other = bound;
  other.binding_id = "other-binding";
  other.team_id = "team-b";
  other.channel_id = "1656000999";
  other.line_id = "other";
  other.webhook_key = "other-webhook-key";
  other.bot_user_id = kBotUser;
  other.verified_with_line = true;
  ASSERT_TRUE(store_->InsertActive(other, {"tester", clock_.Now(), ""}, nullptr).ok());

  EXPECT_EQ(*proof_->Prove(bound, absl::InfiniteFuture()), BindingProof::Outcome::kRejected);
  const storage::Binding stored = Stored();
  EXPECT_FALSE(stored.verified_with_line);
  EXPECT_TRUE(stored.bot_user_id.empty());
  EXPECT_EQ(HealthOf(stored).state, BindingState::kNeedsAttention);
  EXPECT_THAT(stored.attention_reasons,
              ElementsAre(StartsWith("Not verified with LINE (OA_BOUND_TO_OTHER_TEAM)")));
  EXPECT_THAT(*service_->Audit(stored), SizeIs(1));
}

}  // namespace
}  // namespace linechannel::server
