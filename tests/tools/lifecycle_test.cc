// fake_line as a process: readiness line, start-up errors, signals, concurrency.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/fake_line_test_base.h"

namespace linechannel::testing {
namespace {

bool ExitedWith(int wait_status, int code) {
  return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == code;
}

using LifecycleTest = FakeLineTest;

TEST_F(LifecycleTest, PrintsOneReadinessLineOnStdout) {
  absl::string_view port = fake().ready_line();
  EXPECT_TRUE(absl::ConsumePrefix(&port, "fake_line listening on http://127.0.0.1:"))
      << fake().ready_line();
  EXPECT_FALSE(port.empty());
  EXPECT_TRUE(std::all_of(port.begin(), port.end(), absl::ascii_isdigit)) << fake().ready_line();
  EXPECT_EQ(client().Get("/fake/health").status, 200);
  EXPECT_EQ(BotInfo(kTokenA).status, 200);
  EXPECT_EQ(fake().child().Lines().size(), 1u);
}

TEST_F(LifecycleTest, ExitsZeroOnSigterm) {
  EXPECT_EQ(client().Get("/fake/health").status, 200);  // Leaves a kept-alive connection open.
  absl::StatusOr<int> status = fake().child().Stop(SIGTERM, absl::Seconds(5));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(ExitedWith(*status, 0)) << *status;
}

TEST_F(LifecycleTest, ExitsZeroOnSigintEvenDuringAnInjectedDelay) {
  ASSERT_EQ(Patch(kChannelA, R"({"delay_ms": 600000})").status, 200);
  std::thread slow([port = fake().port()] {
    TestHttpClient own(port);
    own.Get("/v2/bot/info", {{"Authorization", std::string("Bearer ") + kTokenA}});
  });
  // The delayed call is in progress once it is counted; the control API is never delayed, so
  // asking it again and again is the wait.
  while (State(kChannelA).Int("/calls/bot_info") == 0) {
  }
  const absl::Time start = absl::Now();
  absl::StatusOr<int> status = fake().child().Stop(SIGINT, absl::Seconds(5));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(ExitedWith(*status, 0)) << *status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  slow.join();
}

TEST_F(LifecycleTest, StartsWithoutAFixture) {
  StartFake({"", {}});
  HttpReply list = client().Get("/fake/channels");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(JsonView(list.body).Size("/channel_ids"), 0u);
  EXPECT_EQ(BotInfo(kTokenA).status, 401);
}

TEST(LifecycleStartupTest, RefusesABadFixture) {
  TempDir dir;
  const std::string path = dir.File("bad.json");
  std::ofstream(path) << R"({"channels": [{"channel_id": "1"}]})";
  ChildProcess::Options options;
  options.argv = {FAKE_LINE_PATH, "--fixture=" + path};
  options.stderr_path = dir.File("stderr.txt");
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = ChildProcess::Start(options);
  ASSERT_TRUE(child.ok()) << child.status();
  absl::StatusOr<int> status = (*child)->Wait(absl::Seconds(10));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) != 0) << *status;
  EXPECT_TRUE((*child)->Lines().empty());
}

TEST_F(LifecycleTest, ServesManyConcurrentCalls) {
  constexpr int kThreads = 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&ok, port = fake().port()] {
      TestHttpClient own(port);
      HttpReply token = own.PostForm(
          "/oauth2/v3/token", absl::StrCat("grant_type=client_credentials&client_id=", kChannelA,
                                           "&client_secret=", kSecretA));
      HttpReply info =
          own.Get("/v2/bot/info", {{"Authorization", std::string("Bearer ") + kTokenB}});
      HttpReply verify = own.PostForm("/v2/oauth/verify", absl::StrCat("access_token=", kTokenB));
      if (token.status == 200 && info.status == 200 && verify.status == 200) ++ok;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads);
  EXPECT_EQ(State(kChannelA).Int("/calls/token"), kThreads);
  EXPECT_EQ(State(kChannelB).Int("/calls/bot_info"), kThreads);
}

TEST_F(LifecycleTest, KeepsConnectionsAlive) {
  for (int i = 0; i < 300; ++i) {
    absl::StatusOr<HttpReply> reply = client().Call("GET", "/fake/health");
    ASSERT_TRUE(reply.ok()) << reply.status();
    ASSERT_EQ(reply->status, 200);
    EXPECT_NE(reply->Header("connection"), "close");
  }
}

}  // namespace
}  // namespace linechannel::testing
