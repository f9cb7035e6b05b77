#ifndef LINECHANNEL_TOOLS_FAKE_LINE_RANDOM_IDS_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_RANDOM_IDS_H_

#include <string>

#include "absl/time/time.h"

namespace linechannel::fake_line {

// Random identifiers in the shapes LINE uses. Not for real secrets: the fake's randomness only
// has to make collisions practically impossible. All functions are thread-safe.

// `length` lower-case hex characters (a channel secret is 32, a user id's tail 32).
std::string RandomHex(int length);

// `length` decimal digits, the first one non-zero (message ids).
std::string RandomDigits(int length);

// An opaque access token: URL-safe base64 of `bytes` random bytes, no padding.
std::string RandomToken(int bytes);

// A random UUID (version 4) in its usual text form, for X-Line-Request-Id.
std::string RandomUuid();

// A ULID (26 Crockford base32 characters: 48-bit millisecond time, then 80 random bits), the
// format of webhookEventId.
std::string NewUlid(absl::Time now);

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_RANDOM_IDS_H_
