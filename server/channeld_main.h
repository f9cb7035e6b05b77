#ifndef LINECHANNEL_SERVER_CHANNELD_MAIN_H_
#define LINECHANNEL_SERVER_CHANNELD_MAIN_H_

#include <functional>

#include "server/http/admin_handler.h"

namespace linechannel::server {

// What a build adds to channeld. Production channeld (server/main.cc) adds nothing;
// channeld_test_hooks (tests/support/) adds SQLite fault injection for the integration tests.
struct ServerAdditions {
  // The test hooks, switched on by --enable_test_hooks, which is refused when this is empty.
  // Runs once, after the flags are read and before the server opens its store.
  std::function<void()> install_test_hooks;
  // Admin-port routes added while the test hooks are on. Not owned; must outlive the server.
  AdminRoutes* test_admin_routes = nullptr;
};

// channeld's whole life: reads the flags (and CHANNELD_* environment variables), runs the
// add-caller command, or validates the configuration, starts the server, prints the ready line
// and serves until SIGTERM or SIGINT (SIGHUP re-reads the callers). Returns the process's exit
// code: 0 after a clean stop, 1 when the server cannot start (the log and stderr say why), 2 for
// a command-line mistake. Call once, from main.
int ChanneldMain(int argc, char** argv, const ServerAdditions& additions);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_CHANNELD_MAIN_H_
