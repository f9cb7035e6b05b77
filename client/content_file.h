#ifndef LINECHANNEL_CLIENT_CONTENT_FILE_H_
#define LINECHANNEL_CLIENT_CONTENT_FILE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linechannel::client {

// Where a download goes, piece by piece as it arrives, so that nothing is held whole: a file
// that appears under its name only once complete, or standard output. Not thread-safe.
class ContentFile {
 public:
  // "-" is standard output. Anything else: bytes go to `path` + ".part" (created or truncated,
  // mode 0644 before umask) until Commit renames it to `path`. INVALID_ARGUMENT if the part
  // file cannot be created (the message names it).
  static absl::StatusOr<std::unique_ptr<ContentFile>> Open(const std::string& path);
  // Removes the part file unless Commit succeeded.
  ~ContentFile();
  ContentFile(const ContentFile&) = delete;
  ContentFile& operator=(const ContentFile&) = delete;

  // Writes `data` after what was written before. INTERNAL if the write fails (disk full, a
  // closed pipe); the download should then be abandoned.
  absl::Status Append(absl::string_view data);
  // Flushes to disk and renames the part file to its name (for "-": flushes). INTERNAL if
  // that fails; the part file is then removed.
  absl::Status Commit();

  int64_t bytes_written() const { return bytes_written_; }
  // Where the bytes ended up, for messages: the path, or "standard output".
  std::string destination() const;

 private:
  ContentFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  bool to_stdout() const { return path_ == "-"; }
  std::string part_path() const { return path_ + ".part"; }

  const std::string path_;
  int fd_;
  int64_t bytes_written_ = 0;
  bool committed_ = false;
};

}  // namespace linechannel::client

#endif  // LINECHANNEL_CLIENT_CONTENT_FILE_H_
