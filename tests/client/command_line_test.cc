#include "client/command_line.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linechannel::client {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Strings(const std::vector<char*>& argv) {
  return {argv.begin(), argv.end()};
}

TEST(TakeRepeatedFlagTest, TakesEveryFormInOrderAndLeavesTheRest) {
  std::vector<std::string> storage = {"channelctl", "--text=a, b", "reply",       "-text=c",
                                      "--text",     "d",           "--textual=x", "--reply_token=t",
                                      "-text",      "--e",         "--",          "--text=f"};
  std::vector<char*> argv;
  for (std::string& s : storage) argv.push_back(s.data());
  absl::StatusOr<std::vector<std::string>> texts = TakeRepeatedFlag("text", argv);
  ASSERT_TRUE(texts.ok()) << texts.status();
  EXPECT_THAT(*texts, ElementsAre("a, b", "c", "d", "--e"));
  EXPECT_THAT(Strings(argv), ElementsAre("channelctl", "reply", "--textual=x", "--reply_token=t",
                                         "--", "--text=f"));
}

TEST(TakeRepeatedFlagTest, AFlagWithoutItsValueIsAMistake) {
  std::string program = "channelctl", flag = "--text";
  std::vector<char*> argv = {program.data(), flag.data()};
  EXPECT_FALSE(TakeRepeatedFlag("text", argv).ok());
}

TEST(MissingFlagsTest, NamesTheEmptyOnesInOrder) {
  EXPECT_EQ(MissingFlags({{"team", ""}, {"channel_id", "1"}, {"to", ""}}), "--team, --to");
  EXPECT_EQ(MissingFlags({{"team", "t"}}), "");
}

}  // namespace
}  // namespace linechannel::client
