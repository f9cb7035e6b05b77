#ifndef LINECHANNEL_SERVER_CRYPTO_SECRET_H_
#define LINECHANNEL_SERVER_CRYPTO_SECRET_H_

#include <string>

namespace linechannel::server {

// A channel secret, access token or key in memory. It has no conversion to a string type and
// no stream or format support, so it cannot end up in a log line, error message or response by
// accident: code that needs the bytes asks for them with Reveal(). The bytes are wiped when the
// object dies. Not thread-safe for writes; const access from many threads is fine.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret& other) = default;
  Secret(Secret&& other) noexcept;
  Secret& operator=(const Secret& other);
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  const std::string& Reveal() const { return value_; }
  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }

  // What people may see: "…" and the last four characters, or "…" alone when the value is too
  // short for four characters to be safe to show.
  std::string Hint() const;

  // Compares in constant time (for equal lengths).
  bool Equals(const Secret& other) const;

 private:
  void Wipe();

  std::string value_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_CRYPTO_SECRET_H_
