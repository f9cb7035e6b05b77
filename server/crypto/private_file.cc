#include "server/crypto/private_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/crypto/digest.h"

namespace linechannel::server {
namespace {

absl::Status ErrnoStatus(absl::string_view what, const std::string& path) {
  const int err = errno;
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  if (err == EEXIST) return absl::AlreadyExistsError(message);
  return absl::UnavailableError(message);
}

absl::Status WriteAndSync(int fd, absl::string_view data, const std::string& path) {
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("writing", path);
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return ErrnoStatus("syncing", path);
  return absl::OkStatus();
}

absl::Status WriteWithFlags(const std::string& path, absl::string_view contents, int flags,
                            absl::string_view what) {
  const int fd = open(path.c_str(), flags | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus(what, path);
  absl::Status status = WriteAndSync(fd, contents, path);
  close(fd);
  return status;
}

}  // namespace

void Wipe(std::string& text) {
  if (!text.empty()) WipeBytes(text.data(), text.size());
  text.clear();
}

absl::StatusOr<std::string> ReadPrivateFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return ErrnoStatus("opening", path);
  std::string text;
  char buf[4096];
  while (true) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = ErrnoStatus("reading", path);
      close(fd);
      Wipe(text);
      return status;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  WipeBytes(buf, sizeof(buf));
  close(fd);
  return text;
}

absl::Status CreatePrivateFile(const std::string& path, absl::string_view contents) {
  absl::Status status = WriteWithFlags(path, contents, O_CREAT | O_EXCL, "creating");
  if (!status.ok() && !absl::IsAlreadyExists(status)) unlink(path.c_str());
  return status;
}

absl::Status ReplacePrivateFile(const std::string& path, absl::string_view contents) {
  const std::string temp = path + ".tmp";
  absl::Status status = WriteWithFlags(temp, contents, O_CREAT | O_TRUNC, "creating");
  if (status.ok() && rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("renaming to", path);
  }
  if (!status.ok()) unlink(temp.c_str());
  return status;
}

absl::Status AppendPrivateFile(const std::string& path, absl::string_view contents) {
  return WriteWithFlags(path, contents, O_CREAT | O_APPEND, "appending to");
}

}  // namespace linechannel::server
