#ifndef LINECHANNEL_SERVER_BASE_CALL_CONTEXT_H_
#define LINECHANNEL_SERVER_BASE_CALL_CONTEXT_H_

#include <string>

#include "absl/time/time.h"

namespace linechannel::server {

// Who is calling and until when; passed down from the RPC edge.
struct CallContext {
  // The caller's name, written in audit rows.
  std::string actor = "anonymous";
  absl::Time deadline = absl::InfiniteFuture();
  // For finding the request's log line.
  std::string request_id;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BASE_CALL_CONTEXT_H_
