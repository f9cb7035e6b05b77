#include "server/crypto/secret_sealer.h"

#include <sys/stat.h>

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/crypto/key_ring.h"
#include "tests/server/fakes.h"
#include "tests/support/temp_dir.h"

namespace linechannel::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SecretSealerTest, SealsAndOpensUnderTheCurrentKey) {
  OpenSslRandom random;
  SecretSealer sealer(KeyRing::Generate(random), &random);
  const Secret secret("0123456789abcdef0123456789abcdef");
  auto sealed = sealer.Seal(secret, "channel_secret:1");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->key_id, sealer.keys()->current_id());
  EXPECT_THAT(sealed->ciphertext, Not(HasSubstr(secret.Reveal())));
  // Version byte, 12-byte nonce, the text, 16-byte tag.
  EXPECT_EQ(sealed->ciphertext.size(), 1 + 12 + secret.size() + 16);
  auto opened = sealer.Unseal(*sealed, "channel_secret:1");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_TRUE(opened->Equals(secret));
}

TEST(SecretSealerTest, SealingTwiceGivesDifferentBytes) {
  OpenSslRandom random;
  SecretSealer sealer(KeyRing::Generate(random), &random);
  auto a = sealer.Seal(Secret("same"), "c");
  auto b = sealer.Seal(Secret("same"), "c");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->ciphertext, b->ciphertext);
}

TEST(SecretSealerTest, EveryChangedByteIsDetected) {
  OpenSslRandom random;
  SecretSealer sealer(KeyRing::Generate(random), &random);
  auto sealed = sealer.Seal(Secret("a token of some length"), "access_token:1");
  ASSERT_TRUE(sealed.ok());
  for (size_t i = 0; i < sealed->ciphertext.size(); ++i) {
    storage::SealedValue tampered = *sealed;
    tampered.ciphertext[i] ^= 0x01;
    auto opened = sealer.Unseal(tampered, "access_token:1");
    EXPECT_TRUE(absl::IsDataLoss(opened.status())) << "byte " << i;
  }
  storage::SealedValue truncated = *sealed;
  truncated.ciphertext.resize(20);
  EXPECT_TRUE(absl::IsDataLoss(sealer.Unseal(truncated, "access_token:1").status()));
}

TEST(SecretSealerTest, AValueOpensOnlyInItsOwnContext) {
  OpenSslRandom random;
  SecretSealer sealer(KeyRing::Generate(random), &random);
  auto sealed = sealer.Seal(Secret("secret"), "channel_secret:100");
  ASSERT_TRUE(sealed.ok());
  EXPECT_TRUE(absl::IsDataLoss(sealer.Unseal(*sealed, "channel_secret:200").status()));
  EXPECT_TRUE(absl::IsDataLoss(sealer.Unseal(*sealed, "access_token:100").status()));
}

TEST(SecretSealerTest, AWrongKeyUnderTheSameIdIsDetected) {
  OpenSslRandom random;
  const KeyRing keys = KeyRing::Generate(random);
  SecretSealer sealer(keys, &random);
  auto sealed = sealer.Seal(Secret("secret"), "c");
  ASSERT_TRUE(sealed.ok());
  // Another key file that happens to use the same id.
  auto impostor = KeyRing::Parse("key " + keys.current_id() +
                                 " AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ncurrent " +
                                 keys.current_id() + "\n");
  ASSERT_TRUE(impostor.ok()) << impostor.status();
  SecretSealer wrong(*impostor, &random);
  auto opened = wrong.Unseal(*sealed, "c");
  EXPECT_TRUE(absl::IsDataLoss(opened.status()));
  EXPECT_THAT(opened.status().message(), HasSubstr("different key"));
}

TEST(SecretSealerTest, AMissingKeyIsAFailedPrecondition) {
  OpenSslRandom random;
  SecretSealer sealer(KeyRing::Generate(random), &random);
  auto sealed = sealer.Seal(Secret("secret"), "c");
  ASSERT_TRUE(sealed.ok());
  SecretSealer other(KeyRing::Generate(random), &random);
  auto opened = other.Unseal(*sealed, "c");
  EXPECT_TRUE(absl::IsFailedPrecondition(opened.status()));
  EXPECT_THAT(opened.status().message(), HasSubstr(sealed->key_id));
}

TEST(SecretSealerTest, OldKeysStillOpenAfterANewKeyBecomesCurrent) {
  OpenSslRandom random;
  KeyRing keys = KeyRing::Generate(random);
  SecretSealer before(keys, &random);
  auto old_sealed = before.Seal(Secret("old"), "c");
  ASSERT_TRUE(old_sealed.ok());
  const std::string new_id = keys.AddGenerated(random);
  ASSERT_TRUE(keys.MakeCurrent(new_id).ok());
  SecretSealer after(keys, &random);
  auto new_sealed = after.Seal(Secret("new"), "c");
  ASSERT_TRUE(new_sealed.ok());
  EXPECT_EQ(new_sealed->key_id, new_id);
  EXPECT_TRUE(after.Unseal(*old_sealed, "c").ok());
  EXPECT_TRUE(after.Unseal(*new_sealed, "c").ok());
}

TEST(KeyRingTest, RoundTripsThroughText) {
  OpenSslRandom random;
  KeyRing keys = KeyRing::Generate(random);
  keys.AddGenerated(random);
  auto parsed = KeyRing::Parse(keys.Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->current_id(), keys.current_id());
  EXPECT_EQ(parsed->ids(), keys.ids());
  EXPECT_TRUE(parsed->current_key().Equals(keys.current_key()));
}

TEST(KeyRingTest, RejectsEveryMalformedFile) {
  const std::string key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  const struct {
    std::string text;
    std::string why;
  } cases[] = {
      {"", "no key"},
      {"# only a comment\n", "no key"},
      {"key a " + key + "\n", "no \"current"},
      {"key a " + key + "\ncurrent b\n", "not in the file"},
      {"key a " + key + "\nkey a " + key + "\ncurrent a\n", "appears twice"},
      {"key a AAAA\ncurrent a\n", "not 32 bytes"},
      {"key a !!!!\ncurrent a\n", "not 32 bytes"},
      {"key a\ncurrent a\n", "expected"},
      {"key bad/id " + key + "\ncurrent bad/id\n", "key id"},
      {"key a " + key + "\ncurrent a\ncurrent a\n", "twice"},
      {"frobnicate a\n", "unknown entry"},
  };
  for (const auto& c : cases) {
    auto parsed = KeyRing::Parse(c.text);
    EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << c.text;
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.why)) << c.text;
  }
}

TEST(KeyRingTest, RemovingTheCurrentKeyIsRefused) {
  OpenSslRandom random;
  KeyRing keys = KeyRing::Generate(random);
  EXPECT_TRUE(absl::IsFailedPrecondition(keys.Remove(keys.current_id())));
  const std::string other = keys.AddGenerated(random);
  EXPECT_TRUE(keys.Remove(other).ok());
  EXPECT_TRUE(absl::IsNotFound(keys.Remove(other)));
  EXPECT_TRUE(absl::IsNotFound(keys.MakeCurrent("nope")));
}

TEST(KeyFileTest, IsCreatedPrivateAndNeverReplaced) {
  testing::TempDir dir;
  OpenSslRandom random;
  const std::string path = dir.File("sealing.key");
  auto created = CreateKeyFile(path, random);
  ASSERT_TRUE(created.ok()) << created.status();
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  EXPECT_TRUE(absl::IsAlreadyExists(CreateKeyFile(path, random).status()));
  auto read = ReadKeyFile(path);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->current_key().Equals(created->current_key()));
}

TEST(KeyFileTest, ReportsMissingAndMalformedFiles) {
  testing::TempDir dir;
  EXPECT_TRUE(absl::IsNotFound(ReadKeyFile(dir.File("absent.key")).status()));
  std::ofstream(dir.File("bad.key")) << "key x y\n";
  auto bad = ReadKeyFile(dir.File("bad.key"));
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_THAT(bad.status().message(), HasSubstr("bad.key"));
  EXPECT_THAT(bad.status().message(), HasSubstr("line 1"));
}

TEST(KeyFileTest, WritesAtomicallyWithPrivateMode) {
  testing::TempDir dir;
  OpenSslRandom random;
  const std::string path = dir.File("sealing.key");
  KeyRing keys = KeyRing::Generate(random);
  ASSERT_TRUE(WriteKeyFile(path, keys).ok());
  const std::string added = keys.AddGenerated(random);
  ASSERT_TRUE(WriteKeyFile(path, keys).ok());
  auto read = ReadKeyFile(path);
  ASSERT_TRUE(read.ok());
  EXPECT_NE(read->Find(added), nullptr);
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
}

TEST(SecretTest, HintShowsOnlyTheLastFourOfLongValues) {
  EXPECT_EQ(Secret("0123456789abcdef0123456789abcdef").Hint(), "…cdef");
  EXPECT_EQ(Secret("short").Hint(), "…");
  EXPECT_TRUE(Secret("abc").Equals(Secret("abc")));
  EXPECT_FALSE(Secret("abc").Equals(Secret("abd")));
  EXPECT_FALSE(Secret("abc").Equals(Secret("abcd")));
}

// Two replicas share one key file; one rotates. The other seals under the new key from its next
// Seal on, and opens what the first sealed under it, without a restart.
TEST(SecretSealerTest, AFollowedKeyFileRotatedByAnotherProcessIsPickedUp) {
  testing::TempDir dir;
  OpenSslRandom random;
  const std::string path = dir.File("sealing.key");
  auto created = CreateKeyFile(path, random);
  ASSERT_TRUE(created.ok()) << created.status();
  SecretSealer rotating(*created, &random);
  SecretSealer other(*created, &random);
  rotating.FollowKeyFile(path);
  other.FollowKeyFile(path);
  const std::string old_id = created->current_id();

  KeyRing rotated = *rotating.keys();
  const std::string new_id = rotated.AddGenerated(random);
  ASSERT_TRUE(rotated.MakeCurrent(new_id).ok());
  ASSERT_TRUE(WriteKeyFile(path, rotated).ok());
  rotating.ReplaceKeys(rotated);

  auto sealed_by_rotating = rotating.Seal(Secret("token"), "access_token:1");
  ASSERT_TRUE(sealed_by_rotating.ok());
  EXPECT_EQ(sealed_by_rotating->key_id, new_id);
  auto opened = other.Unseal(*sealed_by_rotating, "access_token:1");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_TRUE(opened->Equals(Secret("token")));
  auto sealed_by_other = other.Seal(Secret("secret"), "channel_secret:1");
  ASSERT_TRUE(sealed_by_other.ok());
  EXPECT_EQ(sealed_by_other->key_id, new_id);
  EXPECT_NE(new_id, old_id);
}

TEST(SecretSealerTest, AnUnreadableFollowedFileKeepsTheKeysInUse) {
  testing::TempDir dir;
  OpenSslRandom random;
  const std::string path = dir.File("sealing.key");
  auto created = CreateKeyFile(path, random);
  ASSERT_TRUE(created.ok());
  SecretSealer sealer(*created, &random);
  sealer.FollowKeyFile(path);
  {
    std::ofstream broken(path, std::ios::trunc);
    broken << "key not-a-key\n";
  }
  auto sealed = sealer.Seal(Secret("x"), "c");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->key_id, created->current_id());
  EXPECT_TRUE(sealer.Unseal(*sealed, "c").ok());
}

}  // namespace
}  // namespace linechannel::server
