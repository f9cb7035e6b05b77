#include "server/crypto/random_source.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace linechannel::server {

std::string OpenSslRandom::Bytes(size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(n)) != 1) {
    std::fputs("fatal: OpenSSL could not produce random bytes\n", stderr);
    std::abort();
  }
  return bytes;
}

}  // namespace linechannel::server
