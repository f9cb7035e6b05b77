// Fuzzes SecretSealer::Unseal, the decoder of the sealed secrets and tokens read back from the
// database, with a fixed key ring (k1 current, k2 and k10 older). At start-up a few known
// values are sealed under k1 and k2 in a few contexts.
//
// Input: mode (1 byte), then
//   mode % 4 == 0  arbitrary value: key id selector (1 byte: 0-2 a ring id, 3 length-prefixed
//                  bytes) | context (length-prefixed) | sealed bytes (the rest)
//              1   a known value (index byte), edited: count byte, then per edit
//                  op (1) | position (2) | byte (1): flip bits, truncate, insert, append;
//                  mode bit 2 / bit 3: key id / context replaced (length-prefixed)
//              2   a known value (index byte), unchanged bytes, key id / context replaced as
//                  in mode 1 (mode bit 2 / bit 3)
//              3   Seal() of arbitrary bytes: context (length-prefixed) | plaintext (the rest)
//
// Invariants: never crashes; a known sealed value opens, with its plaintext; anything else
// opens only if OpenSSL, called here directly with the ring's key and the documented
// associated data ("linechannel.sealed.v1|<key id>|<context>"), opens it to the same plaintext
// (a value the fuzzer copied from an earlier Seal is genuine); otherwise FAILED_PRECONDITION
// exactly when the key id is not in the ring, DATA_LOSS for everything else; an error message
// is one of the sealer's fixed sentences with the key id it was given, so it cannot show a key
// or a plaintext.

#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/crypto/key_ring.h"
#include "server/crypto/secret.h"
#include "server/crypto/secret_sealer.h"
#include "storage/binding.h"
#include "tests/fuzz/fuzz_support.h"

namespace linechannel::fuzz {
namespace {

const char* const kRingIds[] = {"k1", "k2", "k10"};

struct Known {
  storage::SealedValue sealed;
  std::string context;
  std::string plaintext;
};

std::string KeyBytes(int which) {
  std::string key(server::KeyRing::kKeyBytes, '\0');
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<char>(which * 37 + i * 11 + 1);
  return key;
}

server::KeyRing Ring(absl::string_view current) {
  std::string text;
  for (int i = 0; i < 3; ++i) {
    absl::StrAppend(&text, "key ", kRingIds[i], " ", absl::Base64Escape(KeyBytes(i)), "\n");
  }
  absl::StrAppend(&text, "current ", current, "\n");
  absl::StatusOr<server::KeyRing> ring = server::KeyRing::Parse(text);
  if (!ring.ok()) Fail("fixed key ring: %s", std::string(ring.status().message()).c_str());
  return *std::move(ring);
}

struct Fixture {
  CounterRandom random;
  const server::KeyRing ring = Ring("k1");
  server::SecretSealer sealer{ring, &random};
  std::vector<Known> known;

  Fixture() {
    const std::string plaintexts[] = {
        "0123456789abcdef0123456789abcdef",  // A channel secret.
        std::string(172, 'T') + "=",         // A long-lived access token's length.
        "",
        "x",
        std::string{'\0', 'b', 'i', 'n', '\xff', '\x80', 'a', 'r', 'y', '\0'},
    };
    const std::string contexts[] = {"channel_secret:1656000001", "access_token:1656000001", ""};
    for (const char* id : {"k1", "k2"}) {
      server::SecretSealer by_key(Ring(id), &random);
      for (const std::string& plaintext : plaintexts) {
        for (const std::string& context : contexts) {
          absl::StatusOr<storage::SealedValue> sealed =
              by_key.Seal(server::Secret(plaintext), context);
          if (!sealed.ok()) Fail("Seal: %s", std::string(sealed.status().message()).c_str());
          if (sealed->key_id != id) Fail("sealed under %s, not %s", sealed->key_id.c_str(), id);
          known.push_back({*sealed, context, plaintext});
        }
      }
    }
  }
};

Fixture& TheFixture() {
  static Fixture* const fixture = new Fixture;
  return *fixture;
}

// Opens `sealed` with OpenSSL directly (version byte, 12-byte nonce, body, 16-byte tag), not
// through the sealer: the oracle for values the harness did not seal itself.
std::optional<std::string> OpenIndependently(const storage::SealedValue& sealed,
                                             const std::string& context) {
  int which = -1;
  for (int i = 0; i < 3; ++i) {
    if (sealed.key_id == kRingIds[i]) which = i;
  }
  const std::string& in = sealed.ciphertext;
  if (which < 0 || in.size() < 1 + 12 + 16 || in[0] != '\x01') return std::nullopt;
  const std::string key = KeyBytes(which);
  const std::string aad = absl::StrCat("linechannel.sealed.v1|", sealed.key_id, "|", context);
  const auto* bytes = reinterpret_cast<const unsigned char*>(in.data());
  std::string tag = in.substr(in.size() - 16);
  std::string out(in.size() - 1 - 12 - 16, '\0');
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      &EVP_CIPHER_CTX_free);
  int len = 0;
  const bool opened =
      ctx &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()), bytes + 1) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        bytes + 1 + 12, static_cast<int>(out.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) == 1;
  if (!opened) return std::nullopt;
  return out;
}

// An Unseal error is one of the sealer's fixed sentences, with at most the key id it was given
// put in: anything more could be a key or a plaintext. (Looking for known plaintexts inside
// the message instead cannot tell a leak from a key id that, with the words around it,
// happens to spell one: "k1: the k".)
void CheckMessage(const absl::Status& status, absl::string_view key_id) {
  const std::string expected[] = {
      absl::StrCat("sealing key ", key_id,
                   " is not in the key file: stored secrets sealed with it cannot be opened"),
      "a sealed value is malformed",
      absl::StrCat(
          "a sealed value does not open with key ", key_id,
          ": the key file holds a different key under that id, or the database was altered"),
  };
  for (const std::string& sentence : expected) {
    if (status.message() == sentence) return;
  }
  Fail("an Unseal error is not one of the sealer's sentences: %s",
       std::string(status.message()).c_str());
}

// Unseals and checks the answer against what is known to have been sealed.
void CheckUnseal(const storage::SealedValue& sealed, const std::string& context,
                 const std::vector<Known>& known) {
  const Fixture& fixture = TheFixture();
  const server::SecretSealer& sealer = fixture.sealer;
  absl::StatusOr<server::Secret> opened = sealer.Unseal(sealed, context);
  const Known* match = nullptr;
  for (const Known& k : known) {
    if (k.sealed == sealed && k.context == context) match = &k;
  }
  if (match != nullptr) {
    if (!opened.ok()) {
      Fail("a value sealed under %s does not open: %s", sealed.key_id.c_str(),
           std::string(opened.status().message()).c_str());
    }
    FUZZ_CHECK(opened->Reveal() == match->plaintext);
    return;
  }
  const std::optional<std::string> genuine = OpenIndependently(sealed, context);
  if (opened.ok()) {
    if (!genuine.has_value()) {
      Fail("Unseal opened %zu bytes under key \"%s\" and context \"%s\" that OpenSSL does not",
           sealed.ciphertext.size(), sealed.key_id.c_str(), context.c_str());
    }
    FUZZ_CHECK(opened->Reveal() == *genuine);
    return;
  }
  if (genuine.has_value()) {
    Fail("Unseal refused a genuine value under key \"%s\": %s", sealed.key_id.c_str(),
         std::string(opened.status().message()).c_str());
  }
  if (fixture.ring.Find(sealed.key_id) == nullptr) {
    FUZZ_CHECK(absl::IsFailedPrecondition(opened.status()));
  } else {
    FUZZ_CHECK(absl::IsDataLoss(opened.status()));
  }
  CheckMessage(opened.status(), sealed.key_id);
}

void Edit(InputReader& in, std::string& bytes) {
  const int edits = in.Byte() % 8;
  for (int i = 0; i < edits; ++i) {
    const uint8_t op = in.Byte();
    const auto position = static_cast<size_t>(in.Unsigned(2));
    const auto value = static_cast<char>(in.Byte());
    switch (op % 4) {
      case 0:
        if (!bytes.empty()) bytes[position % bytes.size()] ^= static_cast<char>(value | 1);
        break;
      case 1:
        bytes.resize(position % (bytes.size() + 1));
        break;
      case 2:
        bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(position % (bytes.size() + 1)),
                     value);
        break;
      default:
        bytes.push_back(value);
    }
  }
}

}  // namespace
}  // namespace linechannel::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linechannel;
  using fuzz::Known;
  fuzz::Fixture& fixture = fuzz::TheFixture();
  const std::vector<Known>& known = fixture.known;
  fuzz::InputReader in(data, size);
  const uint8_t mode = in.Byte();

  switch (mode % 4) {
    case 0: {
      storage::SealedValue sealed;
      const uint8_t which = in.Byte();
      sealed.key_id = which % 4 < 3 ? fuzz::kRingIds[which % 4] : in.Short();
      const std::string context = in.Short();
      sealed.ciphertext = in.Rest();
      fuzz::CheckUnseal(sealed, context, known);
      break;
    }
    case 1:
    case 2: {
      const Known& base = known[in.Byte() % known.size()];
      storage::SealedValue sealed = base.sealed;
      std::string context = base.context;
      if (mode % 4 == 1) fuzz::Edit(in, sealed.ciphertext);
      if ((mode & 0x04) != 0) sealed.key_id = in.Short();
      if ((mode & 0x08) != 0) context = in.Short();
      fuzz::CheckUnseal(sealed, context, known);
      break;
    }
    default: {
      const std::string context = in.Short();
      const std::string plaintext = in.Rest();
      absl::StatusOr<storage::SealedValue> sealed =
          fixture.sealer.Seal(server::Secret(plaintext), context);
      FUZZ_CHECK(sealed.ok());
      FUZZ_CHECK(sealed->key_id == "k1");
      FUZZ_CHECK(sealed->ciphertext.size() == 1 + 12 + plaintext.size() + 16);
      FUZZ_CHECK(!absl::StrContains(sealed->ciphertext, plaintext) || plaintext.size() < 8);
      std::vector<Known> with_this = known;
      with_this.push_back({*sealed, context, plaintext});
      fuzz::CheckUnseal(*sealed, context, with_this);
      // The same bytes in another context, or with the last byte of the tag changed, do not open.
      fuzz::CheckUnseal(*sealed, context + "|", with_this);
      storage::SealedValue changed = *sealed;
      changed.ciphertext.back() = static_cast<char>(changed.ciphertext.back() ^ 0x80);
      fuzz::CheckUnseal(changed, context, with_this);
      break;
    }
  }
  return 0;
}
