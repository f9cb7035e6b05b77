#ifndef LINECHANNEL_SERVER_BASE_ENV_FLAGS_H_
#define LINECHANNEL_SERVER_BASE_ENV_FLAGS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace linechannel::server {

// Sets each flag defined in a source file under `source_dir` (for example "server/") from the
// environment variable `prefix` + its upper-cased name, when that variable is set:
// CHANNELD_GRPC_LISTEN for --grpc_listen. Call before absl::ParseCommandLine, so the command
// line still wins. INVALID_ARGUMENT naming the variable if a value does not parse.
absl::Status ApplyEnvironmentToFlags(absl::string_view prefix, absl::string_view source_dir);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BASE_ENV_FLAGS_H_
