#ifndef LINECHANNEL_SERVER_CRYPTO_RANDOM_SOURCE_H_
#define LINECHANNEL_SERVER_CRYPTO_RANDOM_SOURCE_H_

#include <cstddef>
#include <string>

namespace linechannel::server {

// Randomness for keys, nonces and ids, behind an interface so tests can make it predictable.
// Implementations are thread-safe.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // `n` random bytes.
  virtual std::string Bytes(size_t n) = 0;
};

// Cryptographically secure bytes from OpenSSL's RAND_bytes. The process aborts if OpenSSL
// cannot produce them: there is no safe way to go on without randomness.
class OpenSslRandom : public RandomSource {
 public:
  std::string Bytes(size_t n) override;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_CRYPTO_RANDOM_SOURCE_H_
