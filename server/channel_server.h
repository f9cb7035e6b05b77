#ifndef LINECHANNEL_SERVER_CHANNEL_SERVER_H_
#define LINECHANNEL_SERVER_CHANNEL_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/http/admin_handler.h"
#include "server/server_config.h"

namespace linechannel::server {

// The running service: store, key ring, callers, LINE client, gRPC server, webhook endpoint
// and admin port, wired together. Start() either returns a serving server or an error that
// says what to fix; nothing is left running on error. Thread-safe.
class ChannelServer {
 public:
  // Errors: FAILED_PRECONDITION for configuration an operator must fix (bad URL, another
  // channeld on the data directory, a missing or wrong key file for an existing database, a
  // malformed callers file, unusable TLS files); UNAVAILABLE when a port or file cannot be
  // opened. `admin_routes` (may be null, not owned, must outlive the server) adds routes to the
  // admin port; only channeld_test_hooks gives any.
  static absl::StatusOr<std::unique_ptr<ChannelServer>> Start(const ServerConfig& config,
                                                              AdminRoutes* admin_routes = nullptr);
  ~ChannelServer();

  // The addresses actually bound (a configured port 0 becomes the chosen port).
  std::string grpc_address() const;
  std::string webhook_address() const;
  // Empty when the admin port is off.
  std::string admin_address() const;
  std::string public_base_url() const;

  // Re-reads the callers file (SIGHUP); on error the current callers stay.
  absl::Status ReloadCallers();

  // Turns health NOT_SERVING, refuses new webhooks and RPCs, ends event streams, lets running
  // requests finish until `grace` has passed (then cancels them), and closes the store.
  // Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  struct Parts;
  explicit ChannelServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_CHANNEL_SERVER_H_
