// The official SDKs' signature vectors (testdata/line_vectors): the fake must sign exactly as
// LINE does, both in its signing function and in what it puts on the wire.
#include <simdjson.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/line_vectors.h"
#include "tests/tools/fake_line_test_base.h"
#include "tests/tools/independent_signature.h"
#include "tests/tools/webhook_receiver.h"
#include "tools/fake_line/signature.h"

namespace linechannel::testing {
namespace {

using Vector = LineVector;

std::vector<Vector> LoadVectors() { return LoadLineVectors(); }

TEST(SignatureVectorsTest, SigningReproducesEveryVector) {
  const std::vector<Vector> vectors = LoadVectors();
  ASSERT_GE(vectors.size(), 9u);
  for (const Vector& vector : vectors) {
    EXPECT_EQ(fake_line::SignWebhookBody(vector.channel_secret, vector.body), vector.signature)
        << vector.source;
    // The test's own HMAC, used everywhere else, must agree too.
    EXPECT_EQ(IndependentSignature(vector.channel_secret, vector.body), vector.signature)
        << vector.source;
  }
}

using SignatureVectorsOnTheWireTest = FakeLineTest;

TEST_F(SignatureVectorsOnTheWireTest, SendsEveryVectorWithItsSignature) {
  WebhookReceiver receiver;
  const std::vector<Vector> vectors = LoadVectors();
  ASSERT_GE(vectors.size(), 9u);
  for (size_t i = 0; i < vectors.size(); ++i) {
    const Vector& vector = vectors[i];
    const std::string id = absl::StrCat("900000000", i);
    HttpReply added = client().PostJson(
        "/fake/channels",
        absl::StrCat(R"({"channel_id": ")", id, R"(", "channel_secret": )",
                     Quote(vector.channel_secret), R"(, "access_token": "vector-)", i,
                     R"(", "bot_user_id": "Uvector",
                     "basic_id": "@vector", "webhook_endpoint": )",
                     Quote(receiver.Url()), "}"));
    ASSERT_EQ(added.status, 200) << added.body;
    HttpReply sent = SendWebhooks(id, absl::StrCat("{\"raw_body\":", Quote(vector.body), "}"));
    ASSERT_EQ(sent.status, 200) << sent.body;
    EXPECT_EQ(JsonView(sent.body).Str("/signature"), vector.signature) << vector.source;
    ASSERT_EQ(receiver.requests().size(), i + 1);
    const WebhookReceiver::Request request = receiver.requests().back();
    EXPECT_EQ(request.body, vector.body) << vector.source;
    EXPECT_EQ(request.Header("x-line-signature"), vector.signature) << vector.source;
  }
}

}  // namespace
}  // namespace linechannel::testing
