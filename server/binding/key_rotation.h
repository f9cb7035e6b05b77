#ifndef LINECHANNEL_SERVER_BINDING_KEY_ROTATION_H_
#define LINECHANNEL_SERVER_BINDING_KEY_ROTATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/crypto/random_source.h"
#include "server/crypto/secret_sealer.h"
#include "storage/sealed_value_store.h"

namespace linechannel::server {

// Rotates the sealing keys of a running server: a new key is added and made current (the key
// file first, so no value is ever sealed with a key that is not on disk), every stored secret
// and token is re-sealed under it in small transactions while the server keeps serving, and
// old keys are retired once nothing uses them. One rotation at a time. Thread-safe.
class KeyRotation {
 public:
  struct KeyUsage {
    std::string key_id;
    bool current = false;
    int64_t sealed_values = 0;
  };
  struct Rotated {
    std::string new_key_id;
    int64_t resealed_values = 0;
    std::vector<KeyUsage> keys;
  };

  KeyRotation(std::string key_file, SecretSealer* sealer, storage::SealedValueStore* store,
              RandomSource* random);

  // UNAVAILABLE if the key file or the store cannot be written; values already re-sealed stay
  // re-sealed (the old key still opens the rest), so running it again finishes the job.
  absl::StatusOr<Rotated> Rotate();

  // NOT_FOUND for an unknown key; FAILED_PRECONDITION for the current key or one that stored
  // values still use (rotate first).
  absl::StatusOr<std::vector<KeyUsage>> Retire(const std::string& key_id);

  absl::StatusOr<std::vector<KeyUsage>> Usage();

 private:
  // Re-seals every value not sealed with the current key.
  absl::StatusOr<int64_t> ResealAll() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string key_file_;
  SecretSealer* const sealer_;
  storage::SealedValueStore* const store_;
  RandomSource* const random_;
  absl::Mutex mu_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_KEY_ROTATION_H_
