#include "tests/tools/fake_line_process.h"

#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace linechannel::testing {

absl::StatusOr<std::unique_ptr<FakeLineProcess>> FakeLineProcess::Start(const Options& options) {
  std::unique_ptr<FakeLineProcess> fake(new FakeLineProcess());
  ChildProcess::Options child;
  child.argv = {FAKE_LINE_PATH, "--listen=127.0.0.1:0"};
  if (!options.fixture_json.empty()) {
    const std::string path = fake->dir_.File("channels.json");
    std::ofstream(path, std::ios::binary) << options.fixture_json;
    child.argv.push_back("--fixture=" + path);
  }
  for (const std::string& flag : options.flags) child.argv.push_back(flag);
  absl::StatusOr<std::unique_ptr<ChildProcess>> started = ChildProcess::Start(child);
  if (!started.ok()) return started.status();
  fake->child_ = *std::move(started);
  absl::StatusOr<std::string> line = fake->child_->WaitForLine("fake_line listening on");
  if (!line.ok()) return line.status();
  fake->ready_line_ = *line;
  absl::StatusOr<int> port = PortAfter(*line, "http://");
  if (!port.ok()) return port.status();
  fake->port_ = *port;
  return fake;
}

std::string DefaultFixture() {
  const std::string a =
      absl::StrCat(R"({"channel_id": ")", kChannelA, R"(", "channel_secret": ")", kSecretA,
                   R"(", "access_token": ")", kTokenA, R"(", "bot_user_id": ")", kBotA,
                   R"(", "basic_id": "@123abcde", "premium_id": "", "display_name": "Shop A",)",
                   R"( "webhook_endpoint": "", "webhook_active": true})");
  // B's display name is JSON-escaped katakana, which the fake must decode.
  const std::string b =
      absl::StrCat(R"({"channel_id": ")", kChannelB, R"(", "channel_secret": ")", kSecretB,
                   R"(", "access_token": ")", kTokenB, R"(", "bot_user_id": ")", kBotB,
                   R"(", "basic_id": "@987zyxwv", "premium_id": "@shopb",)",
                   R"( "display_name": "Shop B \u30b7\u30e7\u30c3\u30d7",)",
                   R"( "picture_url": "https://profile.line-scdn.net/b",)",
                   R"( "webhook_endpoint": "https://example.com/hook", "webhook_active": false})");
  return absl::StrCat(R"({"channels": [)", a, ",\n", b, "]}");
}

}  // namespace linechannel::testing
