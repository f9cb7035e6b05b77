#ifndef LINECHANNEL_TESTS_INTEGRATION_CHANNELCTL_RUNNER_H_
#define LINECHANNEL_TESTS_INTEGRATION_CHANNELCTL_RUNNER_H_

#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/support/temp_dir.h"

namespace linechannel::testing {

// What one channelctl run did.
struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// ServiceTest that also runs channelctl as operators do: a process with flags, files and
// standard input, talking to the fixture's channeld as its admin caller.
class ChannelctlProcessTest : public ServiceTest {
 protected:
  // Writes `content` to a file `name` in the test's directory; returns its path.
  std::string WriteFile(const std::string& name, const std::string& content);
  // Runs channelctl with `args` after --server and --caller_token_file, `stdin_text` on its
  // standard input; waits for it to exit. A process that cannot be started fails the test.
  CliResult Run(std::vector<std::string> args, const std::string& stdin_text = "");

  TempDir dir_;
  int runs_ = 0;
};

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_INTEGRATION_CHANNELCTL_RUNNER_H_
