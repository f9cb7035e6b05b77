#include "tests/support/line_vectors.h"

#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace linechannel::testing {

std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::vector<LineVector> LoadLineVectors() {
  const std::string dir = LINE_VECTORS_DIR;
  const std::string json = ReadTestFile(dir + "/vectors.json");
  std::vector<LineVector> vectors;
  simdjson::dom::parser parser;
  simdjson::dom::array entries;
  if (parser.parse(json).get_array().get(entries) != simdjson::SUCCESS) {
    ADD_FAILURE() << "cannot parse " << dir << "/vectors.json";
    return vectors;
  }
  for (simdjson::dom::element entry : entries) {
    std::string_view path, secret, file, signature, base64;
    int64_t length = 0;
    if (entry["path"].get(path) || entry["channel_secret"].get(secret) ||
        entry["body_file"].get(file) || entry["expected_signature"].get(signature) ||
        entry["body_len"].get(length) || entry["body_base64"].get(base64)) {
      ADD_FAILURE() << "malformed vector in " << dir << "/vectors.json";
      continue;
    }
    LineVector v{std::string(path), std::string(secret),
                 ReadTestFile(dir + "/" + std::string(file)), std::string(signature)};
    EXPECT_EQ(v.body.size(), static_cast<size_t>(length)) << v.source;
    std::string decoded;
    EXPECT_TRUE(absl::Base64Unescape(std::string(base64), &decoded)) << v.source;
    EXPECT_EQ(decoded, v.body) << v.source;
    vectors.push_back(std::move(v));
  }
  return vectors;
}

}  // namespace linechannel::testing
