#ifndef LINECHANNEL_TESTS_SUPPORT_LINE_VECTORS_H_
#define LINECHANNEL_TESTS_SUPPORT_LINE_VECTORS_H_

#include <string>
#include <vector>

namespace linechannel::testing {

// One signature vector from the official LINE SDKs' own tests (tests/testdata/line_vectors).
struct LineVector {
  // Which SDK test it comes from.
  std::string source;
  std::string channel_secret;
  // The exact body bytes.
  std::string body;
  std::string signature;
};

// Every vector, with each body file checked against its length and the base64 copy in
// vectors.json (a test failure, not a crash, if anything does not match).
std::vector<LineVector> LoadLineVectors();

// Reads a whole file ("" if it cannot be read).
std::string ReadTestFile(const std::string& path);

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_SUPPORT_LINE_VECTORS_H_
