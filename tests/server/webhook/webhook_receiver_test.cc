#include "server/webhook/webhook_receiver.h"

#include <future>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/binding/binding_health.h"
#include "server/crypto/key_ring.h"
#include "server/crypto/random_source.h"
#include "server/crypto/sealing_contexts.h"
#include "server/crypto/webhook_signature.h"
#include "storage/cache/caching_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "tests/storage/make_binding.h"
#include "tests/server/fakes.h"
#include "tests/support/temp_dir.h"

namespace linechannel::server {
namespace {

constexpr char kChannel[] = "1656000001";
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";
constexpr char kNewSecret[] = "fedcba9876543210fedcba9876543210";
constexpr char kKey[] = "webhook-key-of-the-test-binding";

// The receiver over the caching store in front of SQLite, as the server wires it.
class WebhookReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::SqliteStore::Options options;
    options.path = dir_.File("receiver.db");
    store_ = *storage::SqliteStore::Open(options);
    cache_ = std::make_unique<storage::CachingStore>(storage::AllRolesOf(*store_), 100);
    sealer_ = std::make_unique<SecretSealer>(KeyRing::Generate(random_), &random_);
    storage::Binding binding = storage::MakeBinding("team", kChannel, 0, clock_.Now());
    binding.bot_user_id = "Ubot";
    binding.webhook_key = kKey;
    binding.channel_secret = Seal(kSecret);
    binding.access_token = Seal("token");
    absl::StatusOr<storage::Binding> stored =
        cache_->InsertActive(binding, {"tester", clock_.Now(), ""}, nullptr);
    ASSERT_TRUE(stored.ok()) << stored.status();
    row_id_ = stored->row_id;
    Build(100);
  }

  void TearDown() override {
    receiver_.reset();
    store_.reset();  // Before the cache: its last callbacks run through the cache.
  }

  void Build(size_t secret_memo_size) {
    receiver_ = std::make_unique<WebhookReceiver>(cache_.get(), cache_.get(), sealer_.get(),
                                                  &clock_, &notifier_, secret_memo_size);
  }

  storage::SealedValue Seal(const std::string& value) {
    return *sealer_->Seal(Secret(value), SecretContext(kChannel));
  }

  int Receive(const std::string& secret, const std::string& body) {
    absl::StatusOr<WebhookReceiver::Target> target = receiver_->Resolve(kKey);
    EXPECT_TRUE(target.ok()) << target.status();
    if (!target.ok()) return 0;
    std::promise<int> answered;
    receiver_->Receive(*target, WebhookSignature(Secret(secret), body), body,
                       [&](WebhookReceiver::Outcome o) { answered.set_value(o.http_status); });
    return answered.get_future().get();
  }

  BindingState State() { return HealthOf(*cache_->FindActive("team", kChannel)).state; }

  testing::TempDir dir_;
  FakeClock clock_;
  OpenSslRandom random_;
  EventNotifier notifier_;
  std::unique_ptr<storage::CachingStore> cache_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<SecretSealer> sealer_;
  std::unique_ptr<WebhookReceiver> receiver_;
  int64_t row_id_ = 0;
};

TEST_F(WebhookReceiverTest, ResolvesAnActiveKeyWithTheUnsealedSecret) {
  absl::StatusOr<WebhookReceiver::Target> target = receiver_->Resolve(kKey);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->row_id, row_id_);
  EXPECT_EQ(target->binding_id, absl::StrCat("id-team-", kChannel, "-0"));
  EXPECT_EQ(target->team_id, "team");
  EXPECT_EQ(target->channel_id, kChannel);
  EXPECT_EQ(target->webhook_key, kKey);
  EXPECT_EQ(target->bot_user_id, "Ubot");
  EXPECT_TRUE(target->channel_secret.Equals(Secret(kSecret)));
  EXPECT_TRUE(absl::IsNotFound(receiver_->Resolve("no-such-key").status()));
}

TEST_F(WebhookReceiverTest, TheSecretIsUnsealedOncePerSealedValue) {
  ASSERT_TRUE(receiver_->Resolve(kKey).ok());
  // Keys that cannot open the stored value: only the memo can answer now.
  sealer_->ReplaceKeys(KeyRing::Generate(random_));
  absl::StatusOr<WebhookReceiver::Target> again = receiver_->Resolve(kKey);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->channel_secret.Equals(Secret(kSecret)));

  Build(/*secret_memo_size=*/0);
  EXPECT_FALSE(receiver_->Resolve(kKey).ok());
}

TEST_F(WebhookReceiverTest, ANewSecretOrAnUnbindCountsFromTheNextRequest) {
  ASSERT_TRUE(receiver_->Resolve(kKey).ok());
  storage::CredentialUpdate update;
  update.channel_secret = Seal(kNewSecret);
  ASSERT_TRUE(cache_->ReplaceCredentials(row_id_, update, {"tester", clock_.Now(), ""}).ok());
  absl::StatusOr<WebhookReceiver::Target> target = receiver_->Resolve(kKey);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_TRUE(target->channel_secret.Equals(Secret(kNewSecret)));

  ASSERT_TRUE(cache_->MarkUnbound("team", kChannel, {"tester", clock_.Now(), ""}).ok());
  EXPECT_TRUE(absl::IsNotFound(receiver_->Resolve(kKey).status()));
}

TEST_F(WebhookReceiverTest, ABadSignatureShowsAtOnceAndTheNextGoodRequestHealsIt) {
  const std::string body = R"({"destination":"Ubot","events":[]})";
  ASSERT_EQ(Receive(kSecret, body), 200);
  EXPECT_EQ(State(), BindingState::kActive);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Receive(kNewSecret, body), 401);
  EXPECT_EQ(State(), BindingState::kNeedsAttention);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Receive(kSecret, body), 200);
  EXPECT_EQ(State(), BindingState::kActive);
}

}  // namespace
}  // namespace linechannel::server
