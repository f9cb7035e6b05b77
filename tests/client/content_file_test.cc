#include "client/content_file.h"

#include <sys/stat.h>

#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace linechannel::client {
namespace {

using linechannel::testing::ReadFile;
using linechannel::testing::TempDir;

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

TEST(ContentFileTest, BytesAppearUnderTheNameOnlyAfterCommit) {
  TempDir dir;
  const std::string path = dir.File("photo.jpg");
  auto file = ContentFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append("\xFF\xD8").ok());
  ASSERT_TRUE((*file)->Append("\xFF").ok());
  EXPECT_FALSE(Exists(path));
  EXPECT_TRUE(Exists(path + ".part"));
  ASSERT_TRUE((*file)->Commit().ok());
  EXPECT_EQ((*file)->bytes_written(), 3);
  file->reset();
  EXPECT_EQ(ReadFile(path), "\xFF\xD8\xFF");
  EXPECT_FALSE(Exists(path + ".part"));
}

TEST(ContentFileTest, AnAbandonedDownloadLeavesNothing) {
  TempDir dir;
  const std::string path = dir.File("video.mp4");
  {
    auto file = ContentFile::Open(path);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("partial").ok());
  }
  EXPECT_FALSE(Exists(path));
  EXPECT_FALSE(Exists(path + ".part"));
}

TEST(ContentFileTest, AnUncreatablePartFileIsRefused) {
  EXPECT_EQ(ContentFile::Open("/nonexistent-dir/x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace linechannel::client
