#ifndef LINECHANNEL_SERVER_CRYPTO_KEY_RING_H_
#define LINECHANNEL_SERVER_CRYPTO_KEY_RING_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/crypto/random_source.h"
#include "server/crypto/secret.h"

namespace linechannel::server {

// The AES-256 keys that seal stored secrets, each under a short id, one of them current (used
// for new seals); the others still open what they sealed until they are retired.
// Not thread-safe; the sealer copies it.
//
// The key file is text, one entry per line, '#' starts a comment:
//   key <id> <base64 of 32 bytes>
//   current <id>
class KeyRing {
 public:
  static constexpr size_t kKeyBytes = 32;

  // A ring holding one new random key, current.
  static KeyRing Generate(RandomSource& random);

  // INVALID_ARGUMENT naming the line for any malformed entry, a key of the wrong length, a
  // duplicate id, no key at all, or a `current` that names no key.
  static absl::StatusOr<KeyRing> Parse(absl::string_view text);
  std::string Serialize() const;

  const std::string& current_id() const { return current_id_; }
  const Secret& current_key() const { return keys_.at(current_id_); }
  // Null if the ring has no key `id`.
  const Secret* Find(absl::string_view id) const;
  std::vector<std::string> ids() const;

  // Adds a new random key and returns its id; the current key stays current.
  std::string AddGenerated(RandomSource& random);
  // NOT_FOUND if there is no such key.
  absl::Status MakeCurrent(absl::string_view id);
  // NOT_FOUND if there is no such key; FAILED_PRECONDITION for the current key.
  absl::Status Remove(absl::string_view id);

 private:
  std::map<std::string, Secret, std::less<>> keys_;
  std::string current_id_;
};

// Reads the key file at `path`. NOT_FOUND if it does not exist; INVALID_ARGUMENT (with the
// path) if it is malformed; PERMISSION_DENIED if it cannot be read.
absl::StatusOr<KeyRing> ReadKeyFile(const std::string& path);

// Replaces the key file atomically (temporary file, fsync, rename) with mode 0600.
absl::Status WriteKeyFile(const std::string& path, const KeyRing& ring);

// Creates the key file with one new key, failing with ALREADY_EXISTS rather than replacing a
// file that appeared meanwhile.
absl::StatusOr<KeyRing> CreateKeyFile(const std::string& path, RandomSource& random);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_CRYPTO_KEY_RING_H_
