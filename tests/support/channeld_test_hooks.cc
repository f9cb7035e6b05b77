// channeld_test_hooks: channeld plus its test hooks, for the integration tests that inject
// storage faults; never deployed. With --enable_test_hooks, SQLite file writes go through the
// fault-injecting VFS (sqlite_fault_injection.h) and the admin port adds
// `POST /test/storage_fault?fault=none|disk_full|io_error|read_only`.

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/channeld_main.h"
#include "tests/support/sqlite_fault_injection.h"

namespace linechannel::testing {
namespace {

// POST /test/storage_fault?fault=...: sets (or clears) the fault of every store connection.
class StorageFaultRoute : public server::AdminRoutes {
 public:
  std::optional<server::HttpAnswer> Answer(const server::HttpHead& head) override {
    if (head.path != "/test/storage_fault" || head.method != "POST") return std::nullopt;
    absl::string_view fault_name = head.query;
    StorageFault fault;
    if (!absl::ConsumePrefix(&fault_name, "fault=") || !ParseStorageFault(fault_name, &fault)) {
      return server::HttpAnswer{400, "give ?fault=none|disk_full|io_error|read_only\n"};
    }
    SetStorageFault(fault);
    server::HttpAnswer answer{200, absl::StrCat("storage fault: ", fault_name, "\n")};
    answer.log_fields.emplace_back("storage_fault", std::string(fault_name));
    return answer;
  }
};

}  // namespace
}  // namespace linechannel::testing

int main(int argc, char** argv) {
  static linechannel::testing::StorageFaultRoute route;
  linechannel::server::ServerAdditions additions;
  additions.install_test_hooks = linechannel::testing::InstallFaultInjection;
  additions.test_admin_routes = &route;
  return linechannel::server::ChanneldMain(argc, argv, additions);
}
