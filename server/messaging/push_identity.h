#ifndef LINECHANNEL_SERVER_MESSAGING_PUSH_IDENTITY_H_
#define LINECHANNEL_SERVER_MESSAGING_PUSH_IDENTITY_H_

#include <string>

#include "absl/strings/string_view.h"

namespace linechannel::server {

// The X-Line-Retry-Key of a push: a UUID derived from the binding and the caller's request id,
// so every attempt of one push, by any process and after any restart, carries the same key,
// and no two pushes share one.
std::string PushRetryKey(absl::string_view binding_id, absl::string_view request_id);

// What a push asks for, as a digest: a repeat of a request id is recognised as the same push
// without keeping its text after it ends.
std::string PushDigest(absl::string_view to, absl::string_view messages_json,
                       bool notification_disabled);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_MESSAGING_PUSH_IDENTITY_H_
