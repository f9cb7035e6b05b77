#ifndef LINECHANNEL_SERVER_CRYPTO_SECRET_SEALER_H_
#define LINECHANNEL_SERVER_CRYPTO_SECRET_SEALER_H_

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
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

 private:
  RandomSource* const random_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const KeyRing> keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_CRYPTO_SECRET_SEALER_H_
