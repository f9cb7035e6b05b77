#ifndef LINECHANNEL_SERVER_CRYPTO_PRIVATE_FILE_H_
#define LINECHANNEL_SERVER_CRYPTO_PRIVATE_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linechannel::server {

// Small files that hold or guard secrets (key file, callers file, admin token): always mode
// 0600, written durably, never through a symlink. Errors: NOT_FOUND (absent),
// PERMISSION_DENIED, ALREADY_EXISTS (CreatePrivateFile), UNAVAILABLE for other I/O errors;
// each message names the path.

absl::StatusOr<std::string> ReadPrivateFile(const std::string& path);

// Creates `path` with `contents`; never replaces an existing file.
absl::Status CreatePrivateFile(const std::string& path, absl::string_view contents);

// Replaces `path` atomically (temporary file, fsync, rename).
absl::Status ReplacePrivateFile(const std::string& path, absl::string_view contents);

// Appends to `path`, creating it if absent.
absl::Status AppendPrivateFile(const std::string& path, absl::string_view contents);

// Wipes a string that held file contents with secrets in it.
void Wipe(std::string& text);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_CRYPTO_PRIVATE_FILE_H_
