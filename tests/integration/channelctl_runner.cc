#include "tests/integration/channelctl_runner.h"

#include <sys/wait.h>

#include <fstream>

#include "absl/strings/str_cat.h"

namespace linechannel::testing {

std::string ChannelctlProcessTest::WriteFile(const std::string& name, const std::string& content) {
  const std::string path = dir_.File(name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

CliResult ChannelctlProcessTest::Run(std::vector<std::string> args, const std::string& stdin_text) {
  ChildProcess::Options options;
  options.argv = {CHANNELCTL_PATH, "--server=" + channeld_->grpc_address(),
                  "--caller_token_file=" + channeld_->data_dir() + "/admin.token"};
  for (auto& a : args) options.argv.push_back(std::move(a));
  options.stderr_path = dir_.File(absl::StrCat("err", runs_));
  options.stdin_path = WriteFile(absl::StrCat("in", runs_), stdin_text);
  ++runs_;
  CliResult result;
  auto process = ChildProcess::Start(options);
  EXPECT_TRUE(process.ok());
  if (!process.ok()) return result;
  auto status = (*process)->Wait();
  EXPECT_TRUE(status.ok());
  if (status.ok() && WIFEXITED(*status)) result.exit_code = WEXITSTATUS(*status);
  for (const std::string& line : (*process)->Lines()) result.out += line + "\n";
  result.err = ReadFile(options.stderr_path);
  return result;
}

}  // namespace linechannel::testing
