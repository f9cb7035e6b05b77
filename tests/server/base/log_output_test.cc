#include "server/base/log_output.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/server/base/captured_log.h"

namespace linechannel::server {
namespace {

// A window no test waits out: lines that appear were written because something asked for it.
constexpr absl::Duration kNever = absl::Hours(1);

TEST(LogOutputTest, WithoutBatchingALineIsWrittenBeforeTheCallReturns) {
  CapturedLog log;
  WriteLogLine("one\n", /*flush_now=*/false);
  EXPECT_EQ(log.Text(), "one\n");
}

TEST(LogOutputTest, BatchedLinesWaitForTheirWindowAndKeepEachThreadsOrder) {
  CapturedLog log;
  LogBatching batching(kNever);
  constexpr int kThreads = 4;
  constexpr int kLines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) WriteLogLine(absl::StrCat(t, " ", i, "\n"), false);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(log.Text(), "") << "nothing asked for a write yet";

  FlushLog();
  const std::vector<std::string> lines = absl::StrSplit(log.Text(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), size_t{kThreads * kLines});
  std::vector<int> next(kThreads, 0);
  for (const std::string& line : lines) {
    const std::vector<std::string> parts = absl::StrSplit(line, ' ');
    ASSERT_EQ(parts.size(), 2u) << "a whole line: " << line;
    const int thread = std::stoi(parts[0]);
    EXPECT_EQ(std::stoi(parts[1]), next[thread]++) << "thread " << thread << "'s order";
  }
}

TEST(LogOutputTest, AnErrorLineIsWrittenAtOnceAfterEverythingBeforeIt) {
  CapturedLog log;
  LogBatching batching(kNever);
  WriteLogLine("info\n", false);
  WriteLogLine("error\n", /*flush_now=*/true);
  EXPECT_EQ(log.Text(), "info\nerror\n");
}

TEST(LogOutputTest, AMegabyteWaitingIsWrittenByTheLineThatFindsIt) {
  CapturedLog log;
  LogBatching batching(kNever);
  const std::string line = std::string(1023, 'x') + "\n";
  for (int i = 0; i < 1023; ++i) WriteLogLine(line, false);
  EXPECT_EQ(log.Text(), "") << "under a megabyte waits";
  WriteLogLine(line, false);
  EXPECT_EQ(log.Text().size(), size_t{1024 * 1024});
}

TEST(LogOutputTest, TheWriterWritesABatchOnceItsWindowHasPassed) {
  CapturedLog log;
  LogBatching batching(absl::Milliseconds(1));
  WriteLogLine("first\n", false);
  // Waits for the writer thread, however slow the machine; no bound on how soon.
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (log.Text().empty() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(log.Text(), "first\n");
  WriteLogLine("second\n", false);
  while (log.Text() == "first\n" && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(log.Text(), "first\nsecond\n") << "the writer wakes again after going idle";
}

TEST(LogOutputTest, StoppingWritesWhatIsLeftAndLaterLinesGoStraightOut) {
  CapturedLog log;
  {
    LogBatching batching(kNever);
    WriteLogLine("batched\n", false);
    EXPECT_EQ(log.Text(), "");
  }
  EXPECT_EQ(log.Text(), "batched\n");
  WriteLogLine("direct\n", false);
  EXPECT_EQ(log.Text(), "batched\ndirect\n");
}

TEST(LogOutputTest, ChangingTheDestinationWritesEarlierLinesToTheOldOne) {
  CapturedLog first;
  LogBatching batching(kNever);
  WriteLogLine("to first\n", false);
  {
    CapturedLog second;
    WriteLogLine("to second\n", false);
    FlushLog();
    EXPECT_EQ(second.Text(), "to second\n");
  }
  EXPECT_EQ(first.Text(), "to first\n");
}

}  // namespace
}  // namespace linechannel::server
