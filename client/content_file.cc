#include "client/content_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace linechannel::client {
namespace {

std::string Errno() { return std::strerror(errno); }

}  // namespace

absl::StatusOr<std::unique_ptr<ContentFile>> ContentFile::Open(const std::string& path) {
  if (path == "-") return std::unique_ptr<ContentFile>(new ContentFile(path, STDOUT_FILENO));
  const std::string part = path + ".part";
  const int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return absl::InvalidArgumentError(absl::StrCat("cannot create ", part, ": ", Errno()));
  return std::unique_ptr<ContentFile>(new ContentFile(path, fd));
}

ContentFile::~ContentFile() {
  if (to_stdout()) return;
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(part_path().c_str());
}

absl::Status ContentFile::Append(absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::InternalError(absl::StrCat("cannot write to ", destination(), ": ", Errno()));
    }
    data.remove_prefix(static_cast<size_t>(n));
    bytes_written_ += n;
  }
  return absl::OkStatus();
}

absl::Status ContentFile::Commit() {
  if (to_stdout()) {
    committed_ = true;
    return absl::OkStatus();
  }
  // fsync before the rename, so that after a crash the name never points at missing bytes.
  const bool synced = ::fsync(fd_) == 0;
  const bool closed = ::close(fd_) == 0;
  fd_ = -1;
  if (!synced || !closed) {
    return absl::InternalError(absl::StrCat("cannot write ", part_path(), ": ", Errno()));
  }
  if (std::rename(part_path().c_str(), path_.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot rename ", part_path(), " to ", path_, ": ", Errno()));
  }
  committed_ = true;
  return absl::OkStatus();
}

std::string ContentFile::destination() const { return to_stdout() ? "standard output" : path_; }

}  // namespace linechannel::client
