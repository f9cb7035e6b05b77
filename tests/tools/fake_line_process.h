#ifndef LINECHANNEL_TESTS_TOOLS_FAKE_LINE_PROCESS_H_
#define LINECHANNEL_TESTS_TOOLS_FAKE_LINE_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace linechannel::testing {

// The real fake_line binary (FAKE_LINE_PATH), started on 127.0.0.1 port 0 and ready to serve.
// Its stderr goes to the test's stderr. Stopped (SIGTERM) on destruction.
class FakeLineProcess {
 public:
  struct Options {
    std::string fixture_json;        // Written to a temp file and passed as --fixture; "" none.
    std::vector<std::string> flags;  // Extra flags, e.g. "--webhook_timeout=300ms".
  };

  static absl::StatusOr<std::unique_ptr<FakeLineProcess>> Start(const Options& options);

  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  ChildProcess& child() { return *child_; }
  // The readiness line it printed.
  const std::string& ready_line() const { return ready_line_; }
  // A directory that lives as long as the process, for files the test hands to it.
  const TempDir& dir() const { return dir_; }

 private:
  FakeLineProcess() = default;

  TempDir dir_;
  std::unique_ptr<ChildProcess> child_;
  std::string ready_line_;
  int port_ = 0;
};

// Two channels most tests use. Channel A has no premium ID; channel B has one.
inline constexpr char kChannelA[] = "1656000001";
inline constexpr char kSecretA[] = "0123456789abcdef0123456789abcdef";
inline constexpr char kTokenA[] = "long-lived-token-A+/=";
inline constexpr char kBotA[] = "U0123456789abcdef0123456789abcdef";
inline constexpr char kChannelB[] = "1656000002";
inline constexpr char kSecretB[] = "fedcba9876543210fedcba9876543210";
inline constexpr char kTokenB[] = "long-lived-token-B";
inline constexpr char kBotB[] = "Ufedcba9876543210fedcba9876543210";

// A fixture with channels A and B.
std::string DefaultFixture();

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_TOOLS_FAKE_LINE_PROCESS_H_
