// The official SDKs' signature vectors (tests/testdata/line_vectors, copied from the LINE SDKs'
// own tests) against our signature check.

#include "server/crypto/webhook_signature.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "tests/support/line_vectors.h"

namespace linechannel::server {
namespace {

using Vector = testing::LineVector;

std::vector<Vector> LoadVectors() { return testing::LoadLineVectors(); }

TEST(WebhookSignatureTest, EveryOfficialVectorIsAcceptedWithItsSecret) {
  const std::vector<Vector> vectors = LoadVectors();
  ASSERT_GE(vectors.size(), 9u);
  for (const Vector& v : vectors) {
    EXPECT_EQ(WebhookSignature(Secret(v.channel_secret), v.body), v.signature) << v.source;
    EXPECT_TRUE(IsValidWebhookSignature(Secret(v.channel_secret), v.body, v.signature)) << v.source;
  }
}

TEST(WebhookSignatureTest, EveryVectorIsRejectedWithAnyOtherSecret) {
  const std::vector<Vector> vectors = LoadVectors();
  for (const Vector& v : vectors) {
    for (const Vector& other : vectors) {
      if (other.channel_secret == v.channel_secret) continue;
      EXPECT_FALSE(IsValidWebhookSignature(Secret(other.channel_secret), v.body, v.signature))
          << v.source << " with the secret of " << other.source;
    }
    EXPECT_FALSE(IsValidWebhookSignature(Secret(v.channel_secret + "x"), v.body, v.signature));
    EXPECT_FALSE(IsValidWebhookSignature(Secret(""), v.body, v.signature));
  }
}

TEST(WebhookSignatureTest, AnyOneByteChangeOfTheBodyIsRejected) {
  for (const Vector& v : LoadVectors()) {
    for (size_t i = 0; i < v.body.size(); ++i) {
      std::string changed = v.body;
      changed[i] = static_cast<char>(changed[i] ^ 0x01);
      ASSERT_FALSE(IsValidWebhookSignature(Secret(v.channel_secret), changed, v.signature))
          << v.source << " byte " << i;
    }
    EXPECT_FALSE(IsValidWebhookSignature(Secret(v.channel_secret), v.body + " ", v.signature));
    EXPECT_FALSE(IsValidWebhookSignature(Secret(v.channel_secret), v.body.substr(1), v.signature));
  }
}

TEST(WebhookSignatureTest, AnyOneByteChangeOfTheSignatureIsRejected) {
  for (const Vector& v : LoadVectors()) {
    for (size_t i = 0; i < v.signature.size(); ++i) {
      std::string changed = v.signature;
      changed[i] = changed[i] == 'A' ? 'B' : 'A';
      EXPECT_FALSE(IsValidWebhookSignature(Secret(v.channel_secret), v.body, changed))
          << v.source << " signature byte " << i;
    }
  }
}

TEST(WebhookSignatureTest, TheSdksNegativeCasesAreRejected) {
  const Vector v = LoadVectors()[0];
  // A case-flipped signature (Node and Python SDK tests).
  std::string flipped = v.signature;
  for (char& c : flipped) {
    c = absl::ascii_isupper(static_cast<unsigned char>(c))
            ? absl::ascii_tolower(static_cast<unsigned char>(c))
            : absl::ascii_toupper(static_cast<unsigned char>(c));
  }
  EXPECT_FALSE(IsValidWebhookSignature(Secret(v.channel_secret), v.body, flipped));
  // A signature of the wrong length, and the SDKs' literal "invalid_signature".
  EXPECT_FALSE(
      IsValidWebhookSignature(Secret(v.channel_secret), v.body, v.signature.substr(0, 43)));
  EXPECT_FALSE(IsValidWebhookSignature(Secret(v.channel_secret), v.body, v.signature + "="));
  EXPECT_FALSE(IsValidWebhookSignature(Secret(v.channel_secret), v.body, "invalid_signature"));
  // No header at all arrives as an empty value here.
  EXPECT_FALSE(IsValidWebhookSignature(Secret(v.channel_secret), v.body, ""));
  // The raw 32-byte MAC or hex are not LINE's encoding.
  std::string raw;
  ASSERT_TRUE(absl::Base64Unescape(v.signature, &raw));
  EXPECT_FALSE(
      IsValidWebhookSignature(Secret(v.channel_secret), v.body, absl::BytesToHexString(raw)));
}

// RFC 4231's HMAC-SHA256 cases 1, 2 and 6: keys of 20, 4 and 131 bytes (longer than SHA-256's
// block, so hashed first). Each thread keeps one context and re-keys it per call, so the cases
// run interleaved on several threads at once: a key or a digest state left over from the previous
// call would change the next answer.
TEST(WebhookSignatureTest, KeysOfAnyLengthInAnyOrderOnAnyThreadGiveTheRfcMacs) {
  struct Case {
    std::string key;
    std::string data;
    std::string mac_hex;
  };
  const std::vector<Case> cases = {
      {std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
  };
  std::vector<std::string> expected;
  for (const Case& c : cases)
    expected.push_back(absl::Base64Escape(absl::HexStringToBytes(c.mac_hex)));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < 300; ++i) {
        const size_t k = (i + t) % cases.size();
        if (WebhookSignature(Secret(cases[k].key), cases[k].data) != expected[k]) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (size_t t = 0; t < mismatches.size(); ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
  for (size_t k = 0; k < cases.size(); ++k) {
    EXPECT_EQ(WebhookSignature(Secret(cases[k].key), cases[k].data), expected[k]) << "case " << k;
  }
}

}  // namespace
}  // namespace linechannel::server
