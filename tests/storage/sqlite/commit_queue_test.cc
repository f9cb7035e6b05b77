// The commit queue's two threads: writes and their settled callbacks on the committer, in
// transaction order; dones on the answerer, in write order.

#include "storage/sqlite/commit_queue.h"

#include <pthread.h>

#include <string>
#include <thread>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/sqlite/commit_linger.h"
#include "tests/support/temp_dir.h"

namespace linechannel::storage {
namespace {

using ::testing::ElementsAreArray;

// The calling thread's name, as /proc and `top -H` show it.
std::string ThisThreadsName() {
  char name[16] = {};
  pthread_getname_np(pthread_self(), name, sizeof(name));
  return name;
}

class CommitQueueTest : public ::testing::Test {
 protected:
  CommitQueueTest() : db_(dir_.File("queue.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) {
    db_.exec("PRAGMA journal_mode = WAL");
    db_.exec("CREATE TABLE rows (n INTEGER NOT NULL)");
  }

  // What happened, in the order it happened, with the thread it happened on.
  struct Step {
    std::string what;
    std::thread::id thread;
  };
  void Note(std::string what) {
    absl::MutexLock lock(&mu_);
    steps_.push_back({std::move(what), std::this_thread::get_id()});
  }
  std::vector<Step> Steps() {
    absl::MutexLock lock(&mu_);
    return steps_;
  }
  std::vector<std::string> Whats(char kind) {
    std::vector<std::string> out;
    for (const Step& step : Steps()) {
      if (step.what[0] == kind) out.push_back(step.what);
    }
    return out;
  }
  int64_t Rows() { return db_.execAndGet("SELECT count(*) FROM rows").getInt64(); }

  testing::TempDir dir_;
  SQLite::Database db_;
  absl::Mutex mu_;
  std::vector<Step> steps_ ABSL_GUARDED_BY(mu_);
};

TEST_F(CommitQueueTest, SettledFollowsEachTransactionOnTheCommitterAndDonesFollowOnTheAnswerer) {
  constexpr int kWrites = 20;
  absl::Notification all_queued;
  absl::Notification all_done;
  {
    CommitQueue queue(&db_, /*max_writes_per_transaction=*/8);
    for (int i = 0; i < kWrites; ++i) {
      queue.Submit(
          [this, i, &all_queued](SQLite::Database& db) -> absl::Status {
            // The first write holds its transaction until every write is queued, so that the
            // rest share transactions of up to eight.
            if (i == 0) all_queued.WaitForNotification();
            SQLite::Statement insert(db, "INSERT INTO rows (n) VALUES (?)");
            insert.bind(1, i);
            insert.exec();
            Note(absl::StrCat("w", i));
            return absl::OkStatus();
          },
          [this, i](const absl::Status& status) {
            EXPECT_TRUE(status.ok()) << status;
            Note(absl::StrCat("s", i));
          },
          [this, i, &all_done](absl::Status status) {
            EXPECT_TRUE(status.ok()) << status;
            Note(absl::StrCat("d", i));
            if (i == kWrites - 1) all_done.Notify();
          });
    }
    all_queued.Notify();
    all_done.WaitForNotification();
  }
  EXPECT_EQ(Rows(), kWrites);

  std::vector<std::string> in_order;
  for (int i = 0; i < kWrites; ++i) in_order.push_back(absl::StrCat("d", i));
  EXPECT_THAT(Whats('d'), ElementsAreArray(in_order));
  for (auto& name : in_order) name[0] = 's';
  EXPECT_THAT(Whats('s'), ElementsAreArray(in_order));

  // Writes and settled callbacks share one thread; dones run on another. A write that follows
  // a settled callback begins a new transaction, so every write before it must have settled.
  const std::vector<Step> steps = Steps();
  std::thread::id committer;
  std::thread::id answerer;
  int last_write = -1;
  int last_settled = -1;
  char last_on_committer = 'w';
  for (const Step& step : steps) {
    const int i = std::stoi(step.what.substr(1));
    switch (step.what[0]) {
      case 'w':
        if (committer == std::thread::id()) committer = step.thread;
        EXPECT_EQ(step.thread, committer) << step.what;
        EXPECT_EQ(i, last_write + 1) << "writes run in queue order";
        if (last_on_committer == 's') {
          EXPECT_EQ(last_settled, last_write)
              << step.what << " began before the transaction before it had settled";
        }
        last_write = i;
        last_on_committer = 'w';
        break;
      case 's':
        EXPECT_EQ(step.thread, committer) << step.what;
        EXPECT_EQ(i, last_settled + 1);
        EXPECT_LE(i, last_write) << step.what << " settled before its write ran";
        last_settled = i;
        last_on_committer = 's';
        break;
      case 'd':
        if (answerer == std::thread::id()) answerer = step.thread;
        EXPECT_EQ(step.thread, answerer) << step.what;
        EXPECT_NE(step.thread, committer);
        EXPECT_LE(i, last_settled) << step.what << " answered before it settled";
        break;
    }
  }
}

TEST_F(CommitQueueTest, AFailedWriteIsUndoneAndToldWhileTheOthersOfItsTransactionCommit) {
  absl::Notification hold;
  std::vector<absl::Status> settled(3);
  std::vector<absl::Status> done(3);
  {
    CommitQueue queue(&db_, 8);
    for (int i = 0; i < 3; ++i) {
      queue.Submit(
          [i, &hold](SQLite::Database& db) -> absl::Status {
            if (i == 0) hold.WaitForNotification();
            SQLite::Statement insert(db, "INSERT INTO rows (n) VALUES (?)");
            insert.bind(1, i);
            insert.exec();
            if (i == 1) return absl::FailedPreconditionError("write 1 refuses");
            return absl::OkStatus();
          },
          [i, &settled](const absl::Status& status) { settled[i] = status; },
          [i, &done](absl::Status status) { done[i] = std::move(status); });
    }
    hold.Notify();
  }  // Stopping finishes the queued writes and answers them.
  EXPECT_EQ(Rows(), 2);
  EXPECT_EQ(db_.execAndGet("SELECT count(*) FROM rows WHERE n = 1").getInt(), 0);
  for (const auto* statuses : {&settled, &done}) {
    EXPECT_TRUE((*statuses)[0].ok()) << (*statuses)[0];
    EXPECT_EQ((*statuses)[1], absl::FailedPreconditionError("write 1 refuses"));
    EXPECT_TRUE((*statuses)[2].ok()) << (*statuses)[2];
  }
}

TEST_F(CommitQueueTest, WritesRunOnTheThreadNamedCommitAndDonesOnTheOneNamedAnswer) {
  CommitQueue queue(&db_, 8);
  std::string write_thread;
  absl::Notification done;
  std::string done_thread;
  queue.Submit(
      [&write_thread](SQLite::Database&) -> absl::Status {
        write_thread = ThisThreadsName();
        return absl::OkStatus();
      },
      nullptr,
      [&](absl::Status) {
        done_thread = ThisThreadsName();
        done.Notify();
      });
  done.WaitForNotification();
  EXPECT_EQ(write_thread, CommitQueue::kCommitterThreadName);
  EXPECT_EQ(done_thread, CommitQueue::kAnswererThreadName);
}

TEST_F(CommitQueueTest, RunWaitsForTheCommitAndADoneMayQueueAnotherWrite) {
  CommitQueue queue(&db_, 8);
  absl::Notification second_done;
  queue.Submit(
      [](SQLite::Database& db) -> absl::Status {
        db.exec("INSERT INTO rows (n) VALUES (1)");
        return absl::OkStatus();
      },
      nullptr,
      [&queue, &second_done](absl::Status status) {
        ASSERT_TRUE(status.ok()) << status;
        queue.Submit(
            [](SQLite::Database& db) -> absl::Status {
              db.exec("INSERT INTO rows (n) VALUES (2)");
              return absl::OkStatus();
            },
            nullptr, [&second_done](absl::Status) { second_done.Notify(); });
      });
  second_done.WaitForNotification();
  EXPECT_TRUE(queue
                  .Run([](SQLite::Database& db) -> absl::Status {
                    db.exec("INSERT INTO rows (n) VALUES (3)");
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(Rows(), 3);
  EXPECT_EQ(queue.Run([](SQLite::Database&) { return absl::AbortedError("no"); }),
            absl::AbortedError("no"));
}

// A linger that has seen batches of 8 writes from a committer idle half its time: it waits for 6.
CommitLinger LingerWaitingForSix(absl::Duration max_wait) {
  CommitLinger linger(max_wait);
  for (int i = 0; i < 100; ++i) linger.Record(8, absl::Milliseconds(1), absl::Milliseconds(1));
  EXPECT_EQ(linger.WritesToWaitFor(), 6u);
  return linger;
}

// A write that inserts `n`.
CommitQueue::Write Insert(int n) {
  return [n](SQLite::Database& db) -> absl::Status {
    SQLite::Statement insert(db, "INSERT INTO rows (n) VALUES (?)");
    insert.bind(1, n);
    insert.exec();
    return absl::OkStatus();
  };
}

TEST_F(CommitQueueTest, ALingeringCommitterHoldsALoneWriteForTheBatchItExpects) {
  std::vector<int> batches;
  absl::Mutex batches_mu;
  std::vector<absl::Notification> done(6);
  {
    // Far longer than the test: the write is held for the others, never for the time.
    CommitQueue queue(
        &db_, 256,
        [&](absl::Duration, int writes, bool committed) {
          EXPECT_TRUE(committed);
          absl::MutexLock lock(&batches_mu);
          batches.push_back(writes);
        },
        LingerWaitingForSix(absl::Hours(1)));
    queue.Submit(Insert(0), nullptr, [&](absl::Status status) {
      EXPECT_TRUE(status.ok()) << status;
      done[0].Notify();
    });
    // Held: not committed while it is alone (a wrong committer commits it within microseconds).
    EXPECT_FALSE(done[0].WaitForNotificationWithTimeout(absl::Milliseconds(200)));
    for (int i = 1; i < 6; ++i) {
      queue.Submit(Insert(i), nullptr, [&, i](absl::Status status) {
        EXPECT_TRUE(status.ok()) << status;
        done[i].Notify();
      });
    }
    for (absl::Notification& d : done) d.WaitForNotification();
  }
  EXPECT_EQ(Rows(), 6);
  absl::MutexLock lock(&batches_mu);
  EXPECT_THAT(batches, ElementsAreArray({6}));
}

TEST_F(CommitQueueTest, ALingeringCommitterCommitsWhatIsQueuedOnceItsWaitIsOver) {
  CommitQueue queue(&db_, 256, nullptr, LingerWaitingForSix(absl::Milliseconds(20)));
  const absl::Time start = absl::Now();
  EXPECT_TRUE(queue.Run(Insert(1)).ok());
  // It did wait: a lower bound, with room for the clocks' rounding (load only adds to it).
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(15));
  EXPECT_EQ(Rows(), 1);
}

TEST_F(CommitQueueTest, AQueueStoppingWhileItsCommitterLingersCommitsWhatIsQueued) {
  absl::Status told = absl::UnknownError("not told");
  {
    CommitQueue queue(&db_, 256, nullptr, LingerWaitingForSix(absl::Hours(1)));
    queue.Submit(Insert(1), nullptr, [&told](absl::Status status) { told = std::move(status); });
    // Time for the committer to begin lingering (if it has not, the stop is seen before it would).
    absl::SleepFor(absl::Milliseconds(50));
    // The destructor stops the queue: the lingering committer commits at once, not in an hour
    // (if it did not, ctest's timeout would fail the test).
  }
  EXPECT_TRUE(told.ok()) << told;
  EXPECT_EQ(Rows(), 1);
}

}  // namespace
}  // namespace linechannel::storage
