#ifndef LINECHANNEL_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define LINECHANNEL_TESTS_FUZZ_FUZZ_SUPPORT_H_

// Small helpers shared by the fuzz targets: a reader that splits an input from the front (so
// seed files stay readable), deterministic stand-ins for the clock and randomness, and the
// way a harness reports a broken invariant.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "server/base/logger.h"
#include "server/crypto/random_source.h"
#include "tests/server/fakes.h"

namespace linechannel::fuzz {

// A broken invariant: says which and aborts, so libFuzzer saves the input as a crash.
[[noreturn]] inline void Fail(const char* format, ...) __attribute__((format(printf, 1, 2)));
inline void Fail(const char* format, ...) {
  std::fprintf(stderr, "\n==== fuzz invariant broken: ");
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fprintf(stderr, "\n");
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_CHECK(condition)                                                 \
  do {                                                                        \
    if (!(condition)) {                                                       \
      ::linechannel::fuzz::Fail("%s:%d: %s", __FILE__, __LINE__, #condition); \
    }                                                                         \
  } while (0)

// Reads an input from the front: the bytes a harness asks for first are the first bytes of
// the file. Reads past the end give zeros and empty strings.
class InputReader {
 public:
  InputReader(const uint8_t* data, size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  uint8_t Byte() {
    if (rest_.empty()) return 0;
    const auto byte = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return byte;
  }
  // Little-endian, from as many bytes as are left (up to `bytes`).
  uint64_t Unsigned(int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes && !rest_.empty(); ++i) value |= uint64_t{Byte()} << (8 * i);
    return value;
  }
  std::string Bytes(size_t n) {
    n = std::min(n, rest_.size());
    std::string out(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return out;
  }
  // One length byte, then that many bytes.
  std::string Short() { return Bytes(Byte()); }
  std::string Rest() { return Bytes(rest_.size()); }

 private:
  absl::string_view rest_;
};

// Predictable "random" bytes: a counter run through a simple mixer. Never for real keys.
// Thread-safe. Not tests/server/fakes.h's CountingRandom: its bytes repeat every 256, so the
// sealer's 12-byte nonces would repeat within a run.
class CounterRandom : public server::RandomSource {
 public:
  std::string Bytes(size_t n) override {
    std::string out(n, '\0');
    for (char& c : out) {
      uint64_t x = (counter_.fetch_add(1) + 1) * 0x9E3779B97F4A7C15ull;
      x ^= x >> 29;
      c = static_cast<char>(x >> 32);
    }
    return out;
  }

 private:
  std::atomic<uint64_t> counter_{0};
};

// The server logs one JSON line per webhook request; a fuzzer makes millions of them.
inline void SilenceServerLogs() {
  const int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (fd >= 0) server::SetLogDestination(fd);
}

}  // namespace linechannel::fuzz

#endif  // LINECHANNEL_TESTS_FUZZ_FUZZ_SUPPORT_H_
