#include "tools/fake_line/random_ids.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"

namespace linechannel::fake_line {
namespace {

// absl::BitGen is not thread-safe; one generator per thread avoids a lock on every request.
absl::BitGen& Gen() {
  thread_local absl::BitGen gen;
  return gen;
}

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

}  // namespace

std::string RandomHex(int length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(static_cast<size_t>(length), '0');
  for (char& c : out) c = kHex[absl::Uniform(Gen(), 0, 16)];
  return out;
}

std::string RandomDigits(int length) {
  std::string out(static_cast<size_t>(length), '0');
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>('0' + absl::Uniform(Gen(), i == 0 ? 1 : 0, 10));
  }
  return out;
}

std::string RandomToken(int bytes) {
  std::string raw(static_cast<size_t>(bytes), '\0');
  for (char& c : raw) c = static_cast<char>(absl::Uniform<unsigned>(Gen(), 0, 256));
  return absl::WebSafeBase64Escape(raw);
}

std::string RandomUuid() {
  const uint64_t hi = absl::Uniform<uint64_t>(Gen());
  const uint64_t lo = absl::Uniform<uint64_t>(Gen());
  return absl::StrFormat("%08x-%04x-4%03x-%04x-%012x", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0x0FFF,
                         0x8000 | ((lo >> 48) & 0x3FFF), lo & 0xFFFFFFFFFFFFull);
}

std::string NewUlid(absl::Time now) {
  std::string out(26, '0');
  uint64_t millis = static_cast<uint64_t>(absl::ToUnixMillis(now)) & ((uint64_t{1} << 48) - 1);
  // 48 time bits in 10 characters (the first carries only 3 bits), most significant first.
  for (int i = 9; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kCrockford[millis & 31];
    millis >>= 5;
  }
  for (size_t i = 10; i < 26; ++i) out[i] = kCrockford[absl::Uniform(Gen(), 0, 32)];
  return out;
}

}  // namespace linechannel::fake_line
