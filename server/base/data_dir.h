#ifndef LINECHANNEL_SERVER_BASE_DATA_DIR_H_
#define LINECHANNEL_SERVER_BASE_DATA_DIR_H_

#include <string>

#include "absl/status/statusor.h"

namespace linechannel::server {

// The data directory, created private (0700) if absent and locked for as long as this object
// lives, so that two channelds never share one database. Not copyable.
class DataDir {
 public:
  // FAILED_PRECONDITION if another process holds the lock; UNAVAILABLE if the directory cannot
  // be made or opened.
  static absl::StatusOr<DataDir> Open(const std::string& path);
  DataDir(DataDir&& other) noexcept;
  DataDir& operator=(DataDir&&) = delete;
  DataDir(const DataDir&) = delete;
  ~DataDir();

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  DataDir(std::string path, int lock_fd) : path_(std::move(path)), lock_fd_(lock_fd) {}
  std::string path_;
  int lock_fd_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BASE_DATA_DIR_H_
