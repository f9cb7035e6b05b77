#include "server/webhook/webhook_receiver.h"

#include <future>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
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
#include "tests/support/line_vectors.h"
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

  // The answer to `body` signed with `secret`.
  WebhookReceiver::Outcome Answer(const std::string& secret, const std::string& body) {
    absl::StatusOr<WebhookReceiver::Target> target = receiver_->Resolve(kKey);
    EXPECT_TRUE(target.ok()) << target.status();
    if (!target.ok()) return {};
    std::promise<WebhookReceiver::Outcome> answered;
    receiver_->Receive(*target, WebhookSignature(Secret(secret), body), body,
                       [&](WebhookReceiver::Outcome o) { answered.set_value(o); });
    return answered.get_future().get();
  }

  int Receive(const std::string& secret, const std::string& body) {
    return Answer(secret, body).http_status;
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

// LINE's spec requires `destination`. Bodies without it, ours and the official SDKs' older
// ones (with their own secrets and signatures), pass the signature check and are then refused
// as not LINE's body: 400, nothing stored, not even the signed request.
TEST_F(WebhookReceiverTest, ACorrectlySignedBodyWithoutDestinationIsRefusedAndStoresNothing) {
  struct Case {
    std::string source;
    std::string secret;
    std::string body;
    std::string signature;
  };
  const std::string ours =
      R"({"events":[{"type":"message","timestamp":1700000000000,"mode":"active",)"
      R"("webhookEventId":"01J000000000000000000000ND","deliveryContext":{"isRedelivery":false}}]})";
  std::vector<Case> cases = {{"ours", kSecret, ours, ""}};
  for (const testing::LineVector& v : testing::LoadLineVectors()) {
    if (v.body.find("\"events\"") != std::string::npos &&
        v.body.find("\"destination\"") == std::string::npos) {
      cases.push_back({v.source, v.channel_secret, v.body, v.signature});
    }
  }
  ASSERT_GE(cases.size(), 3u) << "the SDK vectors without destination are gone";

  for (const Case& c : cases) {
    SCOPED_TRACE(c.source);
    if (!c.signature.empty()) {
      ASSERT_EQ(WebhookSignature(Secret(c.secret), c.body), c.signature);
    }
    storage::CredentialUpdate update;
    update.channel_secret = Seal(c.secret);
    ASSERT_TRUE(cache_->ReplaceCredentials(row_id_, update, {"tester", clock_.Now(), ""}).ok());
    const WebhookReceiver::Outcome outcome = Answer(c.secret, c.body);
    EXPECT_EQ(outcome.http_status, 400);
    EXPECT_EQ(outcome.message, "not a LINE webhook body: no \"destination\"");
    EXPECT_EQ(outcome.stored, 0);
  }
  absl::StatusOr<std::vector<storage::StoredEvent>> events =
      cache_->ReadEvents({"team", "", 0, 100});
  ASSERT_TRUE(events.ok()) << events.status();
  // Only the lifecycle events of the bind and the credential updates.
  for (const storage::StoredEvent& e : *events) {
    EXPECT_TRUE(e.lifecycle.has_value()) << "webhook event stored: " << e.event.raw_json;
  }
  absl::StatusOr<storage::WebhookActivity> activity = cache_->ReadActivity(row_id_);
  ASSERT_TRUE(activity.ok()) << activity.status();
  EXPECT_FALSE(activity->last_signed_request.has_value());
  EXPECT_FALSE(activity->last_bad_signature.has_value());
}

// LINE's botSuspended / botResumed reach the store with their batch: the binding needs
// attention while suspended, the newest of several in one body decides, and each real change
// is one lifecycle event after LINE's own event, waking the stream's readers.
TEST_F(WebhookReceiverTest, BotSuspendedAndResumedChangeTheBindingWithTheirEvents) {
  const auto event = [](const std::string& type, const std::string& id, int64_t ms) {
    return absl::StrCat(R"({"type":")", type, R"(","timestamp":)", ms,
                        R"(,"mode":"active","webhookEventId":")", id,
                        R"(","deliveryContext":{"isRedelivery":false}})");
  };
  const auto body = [](const std::string& events) {
    return absl::StrCat(R"({"destination":"Ubot","events":[)", events, "]}");
  };
  ASSERT_EQ(State(), BindingState::kActive);
  const int64_t before = notifier_.last_cursor();
  ASSERT_EQ(Receive(kSecret, body(event("botSuspended", "01S", 1700000000000))), 200);
  EXPECT_EQ(State(), BindingState::kNeedsAttention);
  EXPECT_THAT(HealthOf(*cache_->FindActive("team", kChannel)).reasons,
              ::testing::ElementsAre(::testing::HasSubstr("BOT_SUSPENDED")));
  EXPECT_GT(notifier_.last_cursor(), before);
  // A resume and a later suspension in one body: the later one wins.
  ASSERT_EQ(Receive(kSecret, body(absl::StrCat(event("botSuspended", "01S2", 1700000000020), ",",
                                               event("botResumed", "01R", 1700000000010)))),
            200);
  EXPECT_EQ(State(), BindingState::kNeedsAttention);
  ASSERT_EQ(Receive(kSecret, body(event("botResumed", "01R2", 1700000000030))), 200);
  EXPECT_EQ(State(), BindingState::kActive);

  absl::StatusOr<std::vector<storage::StoredEvent>> events =
      cache_->ReadEvents({"team", "", 0, 100});
  ASSERT_TRUE(events.ok()) << events.status();
  std::vector<std::string> types;
  for (const storage::StoredEvent& e : *events) types.push_back(e.event.type);
  EXPECT_THAT(types,
              ::testing::ElementsAre("bound", "botSuspended", "bot_suspended", "botSuspended",
                                     "botResumed", "botResumed", "bot_resumed"));
}

}  // namespace
}  // namespace linechannel::server
