#include "server/grpc/callers.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/crypto/private_file.h"
#include "server/crypto/random_source.h"
#include "tests/support/temp_dir.h"

namespace linechannel::server {
namespace {

NewCaller Make(absl::string_view name, absl::string_view teams) {
  OpenSslRandom random;
  absl::StatusOr<NewCaller> caller = MakeCaller(name, teams, random);
  EXPECT_TRUE(caller.ok()) << caller.status();
  return caller.ok() ? *caller : NewCaller();
}

const std::string* NameOf(const Caller* caller) { return caller ? &caller->name : nullptr; }

TEST(CallerListTest, EachTokenIsItsOwnCallerEveryTime) {
  const NewCaller a = Make("a", "t1");
  const NewCaller b = Make("b", "*");
  absl::StatusOr<CallerList> list = CallerList::Parse(a.line + b.line);
  ASSERT_TRUE(list.ok()) << list.status();
  // Twice each, interleaved: the second time comes from the kept token.
  for (int round = 0; round < 2; ++round) {
    ASSERT_NE(list->Authenticate(a.token), nullptr);
    EXPECT_EQ(*NameOf(list->Authenticate(a.token)), "a");
    ASSERT_NE(list->Authenticate(b.token), nullptr);
    EXPECT_EQ(*NameOf(list->Authenticate(b.token)), "b");
  }
  EXPECT_EQ(list->Authenticate(""), nullptr);
  EXPECT_EQ(list->Authenticate(a.token + "x"), nullptr);
  EXPECT_EQ(list->Authenticate(a.token.substr(1)), nullptr);
  std::string changed = a.token;
  changed.back() = changed.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(list->Authenticate(changed), nullptr);
  // A list of its own knows none of them.
  absl::StatusOr<CallerList> other = CallerList::Parse(Make("c", "t1").line);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->Authenticate(a.token), nullptr);
}

TEST(CallerDirectoryTest, ARemovedOrRotatedCallerStopsWorkingWithTheReload) {
  testing::TempDir dir;
  const std::string path = dir.File("callers");
  const NewCaller a = Make("a", "t1");
  const NewCaller b = Make("b", "t2");
  ASSERT_TRUE(CreatePrivateFile(path, a.line + b.line).ok());
  absl::StatusOr<std::unique_ptr<CallerDirectory>> directory = CallerDirectory::Open(path);
  ASSERT_TRUE(directory.ok()) << directory.status();
  for (int round = 0; round < 2; ++round) {
    EXPECT_NE((*directory)->callers()->Authenticate(a.token), nullptr);
    EXPECT_NE((*directory)->callers()->Authenticate(b.token), nullptr);
  }

  // a gets a new token, b is removed.
  const NewCaller rotated = Make("a", "t1");
  ASSERT_TRUE(ReplacePrivateFile(path, rotated.line).ok());
  ASSERT_TRUE((*directory)->Reload().ok());
  EXPECT_EQ((*directory)->callers()->Authenticate(a.token), nullptr);
  EXPECT_EQ((*directory)->callers()->Authenticate(b.token), nullptr);
  EXPECT_EQ(*NameOf((*directory)->callers()->Authenticate(rotated.token)), "a");

  // A malformed file keeps the list, kept tokens and all.
  ASSERT_TRUE(ReplacePrivateFile(path, "caller broken\n").ok());
  EXPECT_FALSE((*directory)->Reload().ok());
  EXPECT_EQ(*NameOf((*directory)->callers()->Authenticate(rotated.token)), "a");
}

}  // namespace
}  // namespace linechannel::server
