#include "server/crypto/secret.h"

#include <openssl/crypto.h>

namespace linechannel::server {
namespace {
// Below this length the last four characters would give away too much of the value.
constexpr size_t kMinLengthForHint = 16;
}  // namespace

Secret::Secret(Secret&& other) noexcept : value_(other.value_) { other.Wipe(); }

Secret& Secret::operator=(const Secret& other) {
  if (this != &other) {
    Wipe();
    value_ = other.value_;
  }
  return *this;
}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    Wipe();
    value_ = other.value_;
    other.Wipe();
  }
  return *this;
}

Secret::~Secret() { Wipe(); }

void Secret::Wipe() {
  // Copies rather than moves above: a moved-from std::string may keep its old buffer alive
  // in a way we cannot reach to wipe.
  if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
  value_.clear();
}

std::string Secret::Hint() const {
  if (value_.size() < kMinLengthForHint) return "…";
  return "…" + value_.substr(value_.size() - 4);
}

bool Secret::Equals(const Secret& other) const {
  return value_.size() == other.value_.size() &&
         CRYPTO_memcmp(value_.data(), other.value_.data(), value_.size()) == 0;
}

}  // namespace linechannel::server
