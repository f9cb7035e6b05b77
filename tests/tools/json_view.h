#ifndef LINECHANNEL_TESTS_TOOLS_JSON_VIEW_H_
#define LINECHANNEL_TESTS_TOOLS_JSON_VIEW_H_

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace linechannel::testing {

// Read-only access to a JSON text by JSON Pointer ("/details/0/property"), for assertions.
// Accessors return a zero value when the pointer is missing or has another type, so tests
// compare against expected values rather than crash. Not thread-safe.
class JsonView {
 public:
  explicit JsonView(const std::string& text);

  bool valid() const { return valid_; }
  bool Has(const std::string& pointer) const;
  std::string Str(const std::string& pointer) const;
  int64_t Int(const std::string& pointer) const;
  bool Bool(const std::string& pointer) const;
  bool IsString(const std::string& pointer) const;
  // Elements of an array or members of an object; 0 otherwise.
  size_t Size(const std::string& pointer) const;
  // Member names of an object, in document order.
  std::vector<std::string> Keys(const std::string& pointer) const;

 private:
  bool At(const std::string& pointer, simdjson::dom::element* out) const;

  std::unique_ptr<simdjson::dom::parser> parser_;
  simdjson::dom::element root_;
  bool valid_ = false;
};

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_TOOLS_JSON_VIEW_H_
