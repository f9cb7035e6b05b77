#include "server/crypto/secret_sealer.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

namespace linechannel::server {
namespace {

constexpr char kVersion = 0x01;
constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* MutableBytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// The associated data authenticates the format version, the key id and the context, so none
// of them can be swapped without the tag failing.
std::string AssociatedData(absl::string_view key_id, absl::string_view context) {
  return absl::StrCat("linechannel.sealed.v1|", key_id, "|", context);
}

}  // namespace

SecretSealer::SecretSealer(KeyRing keys, RandomSource* random)
    : random_(random), keys_(std::make_shared<const KeyRing>(std::move(keys))) {}

std::shared_ptr<const KeyRing> SecretSealer::keys() const {
  absl::MutexLock lock(&mu_);
  return keys_;
}

void SecretSealer::ReplaceKeys(KeyRing keys) {
  auto replacement = std::make_shared<const KeyRing>(std::move(keys));
  absl::MutexLock lock(&mu_);
  keys_ = std::move(replacement);
}

void SecretSealer::FollowKeyFile(std::string path) {
  {
    absl::MutexLock lock(&mu_);
    followed_path_ = std::move(path);
    followed_stamp_ = FileStamp();
  }
  ReloadIfChanged();
}

void SecretSealer::ReloadIfChanged() const {
  absl::MutexLock lock(&mu_);
  if (followed_path_.empty()) return;
  struct stat info;
  if (stat(followed_path_.c_str(), &info) != 0) return;
  const FileStamp stamp{static_cast<uint64_t>(info.st_ino), static_cast<int64_t>(info.st_size),
                        static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 +
                            info.st_mtim.tv_nsec};
  if (stamp == followed_stamp_) return;
  // Rewrites are atomic (WriteKeyFile renames a complete file into place), so a read never
  // sees half a file; one that fails anyway leaves the ring and the stamp as they were.
  absl::StatusOr<KeyRing> ring = ReadKeyFile(followed_path_);
  if (!ring.ok()) return;
  keys_ = std::make_shared<const KeyRing>(*std::move(ring));
  followed_stamp_ = stamp;
}

absl::StatusOr<storage::SealedValue> SecretSealer::Seal(const Secret& plaintext,
                                                        absl::string_view context) const {
  ReloadIfChanged();
  const std::shared_ptr<const KeyRing> keys = this->keys();
  const std::string& key_id = keys->current_id();
  const std::string aad = AssociatedData(key_id, context);
  const std::string nonce = random_->Bytes(kNonceBytes);
  const std::string& in = plaintext.Reveal();

  std::string out(1 + kNonceBytes + in.size() + kTagBytes, '\0');
  out[0] = kVersion;
  out.replace(1, kNonceBytes, nonce);
  unsigned char* body = MutableBytes(out) + 1 + kNonceBytes;

  CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  int final_len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(keys->current_key().Reveal()),
                         Bytes(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), body, &len, Bytes(in), static_cast<int>(in.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + len, &final_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, body + in.size()) != 1) {
    return absl::InternalError("sealing failed in OpenSSL");
  }
  return storage::SealedValue{key_id, std::move(out)};
}

absl::StatusOr<Secret> SecretSealer::Unseal(const storage::SealedValue& sealed,
                                            absl::string_view context) const {
  std::shared_ptr<const KeyRing> keys = this->keys();
  const Secret* key = keys->Find(sealed.key_id);
  if (key == nullptr) {
    // Perhaps another process sharing the key file has added the key since.
    bool try_file = false;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time now = absl::Now();
      if (!followed_path_.empty() && now - last_unknown_key_reload_ >= absl::Seconds(1)) {
        last_unknown_key_reload_ = now;
        try_file = true;
      }
    }
    if (try_file) {
      ReloadIfChanged();
      keys = this->keys();
      key = keys->Find(sealed.key_id);
    }
  }
  if (key == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("sealing key ", sealed.key_id,
                     " is not in the key file: stored secrets sealed with it "
                     "cannot be opened"));
  }
  const std::string& in = sealed.ciphertext;
  if (in.size() < 1 + kNonceBytes + kTagBytes || in[0] != kVersion) {
    return absl::DataLossError("a sealed value is malformed");
  }
  const size_t body_size = in.size() - 1 - kNonceBytes - kTagBytes;
  const unsigned char* nonce = Bytes(in) + 1;
  const unsigned char* body = nonce + kNonceBytes;
  std::string tag = in.substr(in.size() - kTagBytes);
  const std::string aad = AssociatedData(sealed.key_id, context);

  std::string out(body_size, '\0');
  CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  int final_len = 0;
  const bool opened =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, Bytes(key->Reveal()), nonce) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), MutableBytes(out), &len, body, static_cast<int>(body_size)) ==
          1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, MutableBytes(tag)) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), MutableBytes(out) + len, &final_len) == 1;
  Secret plaintext(std::move(out));
  if (!opened) {
    return absl::DataLossError(absl::StrCat(
        "a sealed value does not open with key ", sealed.key_id,
        ": the key file holds a different key under that id, or the database was altered"));
  }
  return plaintext;
}

}  // namespace linechannel::server
