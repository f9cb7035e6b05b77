#ifndef LINECHANNEL_SERVER_CRYPTO_SECRET_SEALER_H_
#define LINECHANNEL_SERVER_CRYPTO_SECRET_SEALER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/crypto/key_ring.h"
#include "server/crypto/random_source.h"
#include "server/crypto/secret.h"
#include "storage/binding.h"

namespace linechannel::server {

// Seals secrets for storage with AES-256-GCM under the key ring's current key, and opens them
// again under whichever key sealed them. Each sealed value is bound to a context string (for
// example "channel_secret:1656000001") so that a ciphertext copied to another row or field
// does not open. The ring can be replaced while in use (key rotation). Thread-safe.
//
// Sealed bytes: version (1 byte, 0x01) | nonce (12) | ciphertext | tag (16).
class SecretSealer {
 public:
  SecretSealer(KeyRing keys, RandomSource* random);

  absl::StatusOr<storage::SealedValue> Seal(const Secret& plaintext,
                                            absl::string_view context) const;

  // FAILED_PRECONDITION if the key that sealed `sealed` is not in the ring; DATA_LOSS if the
  // bytes are malformed, were changed, belong to another context, or the key with that id is
  // not the key that sealed them.
  absl::StatusOr<Secret> Unseal(const storage::SealedValue& sealed,
                                absl::string_view context) const;

  // The ring in use (a snapshot: a later ReplaceKeys does not change it).
  std::shared_ptr<const KeyRing> keys() const;

  // From now on seals use `keys`' current key and opens find keys in `keys`.
  void ReplaceKeys(KeyRing keys);

  // Follows the key file at `path`, which other processes may rewrite (replicas sharing a
  // database and a key file, one of which rotated the keys): the ring is read again when the
  // file has changed, checked before every Seal (so nothing is sealed with a key another
  // replica has since replaced) and when a value's key is not in the ring (at most once a
  // second, so a bad value cannot make every request read the file).
  void FollowKeyFile(std::string path);

 private:
  // The key file's identity and version, to tell whether it changed.
  struct FileStamp {
    uint64_t inode = 0;
    int64_t size = 0;
    int64_t modified_ns = 0;
    bool operator==(const FileStamp& o) const {
      return inode == o.inode && size == o.size && modified_ns == o.modified_ns;
    }
  };
  // Reads the followed key file again if it changed. A file that cannot be read or parsed
  // leaves the ring as it is (the next change is tried again).
  void ReloadIfChanged() const;

  RandomSource* const random_;
  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const KeyRing> keys_ ABSL_GUARDED_BY(mu_);
  std::string followed_path_ ABSL_GUARDED_BY(mu_);
  mutable FileStamp followed_stamp_ ABSL_GUARDED_BY(mu_);
  mutable absl::Time last_unknown_key_reload_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_CRYPTO_SECRET_SEALER_H_
