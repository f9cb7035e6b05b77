// Storms against the real channeld: a thousand simultaneous binds of one OA from fifty teams,
// bind/unbind races of one OA, and every webhook event delivered eleven times (three
// redeliveries in different batches plus eight simultaneous copies).
//
// Parameters (environment): STORM_ROUNDS (20) rounds of STORM_BINDS (1000) binds;
// STORM_RACE_ITERATIONS (60) bind+unbind pairs per racing team; STORM_EVENTS (10000) events.
//
// channeld runs with its default --rpc_workers (32) and --rpc_queue (1024): a burst of 1,000
// calls leaves at most 968 waiting, so the defaults must take the whole burst without a
// RESOURCE_EXHAUSTED.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"

namespace linechannel::testing {
namespace {

using ::testing::IsEmpty;

class StormTest : public ServiceTest {
 protected:
  std::unique_ptr<grpc::ClientContext> AuthContext(absl::Duration timeout = absl::Seconds(120)) {
    return testing::AuthContext(channeld_->admin_token(), timeout);
  }
};

TEST_F(StormTest, AThousandSimultaneousBindsOfOneOaMakeOneBinding) {
  const int rounds = EnvInt("STORM_ROUNDS", 20, /*min=*/1);
  const int calls = EnvInt("STORM_BINDS", 1000, /*min=*/1);
  constexpr int kTeams = 50;
  constexpr int kChannels = 8;
  std::vector<std::unique_ptr<v1::ChannelService::Stub>> stubs;
  for (int i = 0; i < kChannels; ++i) {
    stubs.push_back(v1::ChannelService::NewStub(OwnChannel(channeld_->grpc_address())));
  }
  std::map<std::string, int> totals;
  std::set<std::string> binding_ids;
  absl::Duration slowest;
  const absl::Time storm_start = absl::Now();
  for (int round = 0; round < rounds; ++round) {
    struct Call {
      std::string team;
      v1::BindChannelRequest request;
      v1::BindChannelResponse response;
      std::unique_ptr<grpc::ClientContext> context;
      grpc::Status status;
    };
    std::vector<Call> storm(calls);
    for (int i = 0; i < calls; ++i) {
      storm[i].team = absl::StrFormat("storm-team-%02d", i % kTeams);
      storm[i].request = BindRequestFor(Channel1(), storm[i].team);
      storm[i].request.set_app_name("Storm app");  // The same values from every team.
      storm[i].context = AuthContext();
    }
    absl::BlockingCounter done(calls);
    const absl::Time start = absl::Now();
    for (int i = 0; i < calls; ++i) {
      Call& call = storm[i];
      stubs[i % kChannels]->async()->BindChannel(call.context.get(), &call.request, &call.response,
                                                 [&call, &done](grpc::Status status) {
                                                   call.status = std::move(status);
                                                   done.DecrementCount();
                                                 });
    }
    done.Wait();  // Every call has its deadline, so this ends.
    const absl::Duration took = absl::Now() - start;
    slowest = std::max(slowest, took);

    std::map<std::string, int> answers;
    std::vector<const Call*> created;
    for (const Call& call : storm) {
      ++answers[Answer(call.status)];
      if (call.status.ok() && !call.response.already_bound()) created.push_back(&call);
    }
    for (const auto& [answer, count] : answers) totals[answer] += count;
    std::printf("storm round %d: %d binds in %s: %s\n", round + 1, calls,
                absl::FormatDuration(took).c_str(),
                absl::StrJoin(answers, " ", absl::PairFormatter("=")).c_str());
    ASSERT_EQ(created.size(), 1u) << "round " << round + 1 << ": "
                                  << absl::StrJoin(answers, " ", absl::PairFormatter("="));
    const std::string winner = created[0]->team;
    const std::string binding_id = created[0]->response.channel().binding_id();
    EXPECT_TRUE(binding_ids.insert(binding_id).second) << "binding id reused: " << binding_id;
    for (const Call& call : storm) {
      if (call.team == winner) {
        // The winning team's repeats of its own bind are answered with its binding.
        EXPECT_TRUE(call.status.ok()) << "round " << round + 1 << " winner " << winner << ": "
                                      << Answer(call.status) << " " << call.status.error_message();
        EXPECT_EQ(call.response.channel().binding_id(), binding_id);
        EXPECT_EQ(call.response.channel().team_id(), winner);
      } else {
        EXPECT_EQ(call.status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
            << "round " << round + 1 << " team " << call.team << ": " << Answer(call.status) << " "
            << call.status.error_message();
        EXPECT_EQ(Reason(call.status), "OA_BOUND_TO_OTHER_TEAM") << call.status.error_message();
      }
    }
    if (HasFailure()) break;

    // Between rounds the winner unbinds, through the admin caller's stub.
    v1::UnbindChannelRequest unbind;
    unbind.set_team_id(winner);
    unbind.set_channel_id(Channel1().channel_id);
    v1::UnbindChannelResponse unbound;
    const grpc::Status status = channeld_->stub().UnbindChannel(Context().get(), unbind, &unbound);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(unbound.channel().binding_id(), binding_id);
  }
  std::printf("storm: %d rounds of %d binds in %s (slowest round %s): %s\n", rounds, calls,
              absl::FormatDuration(absl::Now() - storm_start).c_str(),
              absl::FormatDuration(slowest).c_str(),
              absl::StrJoin(totals, " ", absl::PairFormatter("=")).c_str());

  // The store agrees: one binding and one bind audit row per round, all unbound now.
  SQLite::Database db(channeld_->db_path(), SQLite::OPEN_READONLY);
  SQLite::Statement count(db,
                          "SELECT count(*), sum(unbound_at_us IS NULL) FROM bindings "
                          "WHERE channel_id = ?");
  count.bind(1, Channel1().channel_id);
  ASSERT_TRUE(count.executeStep());
  EXPECT_EQ(count.getColumn(0).getInt(), rounds);
  EXPECT_EQ(count.getColumn(1).getInt(), 0);
  SQLite::Statement audit(db,
                          "SELECT action, count(*) FROM audit_log WHERE channel_id = ? "
                          "GROUP BY action ORDER BY action");
  audit.bind(1, Channel1().channel_id);
  std::map<std::string, int> actions;
  while (audit.executeStep()) actions[audit.getColumn(0).getString()] = audit.getColumn(1).getInt();
  EXPECT_EQ(actions, (std::map<std::string, int>{{"bind", rounds}, {"unbind", rounds}}));
}

TEST_F(StormTest, BindUnbindRacesNeverLeaveTwoActiveBindings) {
  const int iterations = EnvInt("STORM_RACE_ITERATIONS", 60, /*min=*/1);
  constexpr int kRacers = 8;
  std::atomic<bool> racing{true};
  std::atomic<int> checks{0};
  std::atomic<int> created{0};
  absl::Mutex mu;
  std::vector<std::string> problems;   // Guarded by mu.
  std::map<std::string, int> answers;  // Guarded by mu.
  const auto note = [&](const std::string& what, const grpc::Status& status) {
    absl::MutexLock lock(&mu);
    ++answers[absl::StrCat(what, " ", Answer(status))];
  };

  // A reader of our own watches the database the whole time: never two active bindings.
  std::thread watcher([&] {
    try {
      SQLite::Database db(channeld_->db_path(), SQLite::OPEN_READONLY);
      SQLite::Statement active(db,
                               "SELECT count(*) FROM bindings WHERE unbound_at_us IS NULL AND "
                               "(channel_id = ? OR line_id = ? OR bot_user_id = ?)");
      active.bind(1, Channel2().channel_id);
      active.bind(2, Channel2().line_id.substr(1));
      active.bind(3, Channel2().bot_user_id);
      while (racing) {
        active.reset();
        if (active.executeStep() && active.getColumn(0).getInt() > 1) {
          absl::MutexLock lock(&mu);
          problems.push_back(absl::StrCat(active.getColumn(0).getInt(), " active bindings"));
        }
        ++checks;
        absl::SleepFor(absl::Milliseconds(1));  // Pacing: leave the CPU to the racers.
      }
    } catch (const std::exception& e) {
      absl::MutexLock lock(&mu);
      problems.push_back(absl::StrCat("watcher: ", e.what()));
    }
  });

  std::vector<std::thread> racers;
  for (int r = 0; r < kRacers; ++r) {
    racers.emplace_back([&, r] {
      auto stub = v1::ChannelService::NewStub(OwnChannel(channeld_->grpc_address()));
      const std::string team = absl::StrCat("race-team-", r);
      std::mt19937 random(r);
      for (int i = 0; i < iterations; ++i) {
        // Only this thread acts for its team, so each answer is known in advance but for
        // which team holds the OA.
        if (random() % 5 == 0) {
          v1::UnbindChannelRequest unbind;
          unbind.set_team_id(team);
          unbind.set_channel_id(Channel2().channel_id);
          v1::UnbindChannelResponse unbound;
          const grpc::Status status = stub->UnbindChannel(AuthContext().get(), unbind, &unbound);
          note("unbind-unbound", status);
          if (status.error_code() != grpc::StatusCode::NOT_FOUND) {
            absl::MutexLock lock(&mu);
            problems.push_back(absl::StrCat(team, " unbind of nothing: ", Answer(status)));
          }
          continue;
        }
        v1::BindChannelRequest request = BindRequestFor(Channel2(), team);
        request.set_app_name("Race app");
        v1::BindChannelResponse bound;
        const grpc::Status status = stub->BindChannel(AuthContext().get(), request, &bound);
        note("bind", status);
        if (status.ok() && !bound.already_bound()) {
          ++created;
          v1::UnbindChannelRequest unbind;
          unbind.set_team_id(team);
          unbind.set_channel_id(Channel2().channel_id);
          v1::UnbindChannelResponse unbound;
          const grpc::Status unbound_status =
              stub->UnbindChannel(AuthContext().get(), unbind, &unbound);
          note("unbind", unbound_status);
          if (!unbound_status.ok() ||
              unbound.channel().binding_id() != bound.channel().binding_id()) {
            absl::MutexLock lock(&mu);
            problems.push_back(absl::StrCat(team,
                                            " unbind of its binding: ", Answer(unbound_status), " ",
                                            unbound_status.error_message()));
          }
        } else if (status.error_code() != grpc::StatusCode::ALREADY_EXISTS ||
                   Reason(status) != "OA_BOUND_TO_OTHER_TEAM") {
          absl::MutexLock lock(&mu);
          problems.push_back(absl::StrCat(team, " bind: ", Answer(status), " ",
                                          status.error_message(),
                                          bound.already_bound() ? " (already_bound)" : ""));
        }
      }
    });
  }
  for (std::thread& t : racers) t.join();
  racing = false;
  watcher.join();
  std::printf("race: %d racers x %d calls, %d bindings made, %d database checks: %s\n", kRacers,
              iterations, created.load(), checks.load(),
              absl::StrJoin(answers, " ", absl::PairFormatter("=")).c_str());
  EXPECT_THAT(problems, IsEmpty());
  EXPECT_GT(created.load(), 0);
  EXPECT_GT(checks.load(), 0) << "the watcher never looked at the database";

  // The audit trail alternates bind, unbind of that same binding, bind, ...: at no moment were
  // two bindings of the OA active.
  SQLite::Database db(channeld_->db_path(), SQLite::OPEN_READONLY);
  SQLite::Statement audit(db,
                          "SELECT action, binding_row_id FROM audit_log WHERE channel_id = ? "
                          "ORDER BY id");
  audit.bind(1, Channel2().channel_id);
  int64_t open_row = 0;
  int binds = 0;
  while (audit.executeStep()) {
    const std::string action = audit.getColumn(0).getString();
    const int64_t row = audit.getColumn(1).getInt64();
    if (action == "bind") {
      EXPECT_EQ(open_row, 0) << "binding row " << row << " made while row " << open_row
                             << " was active";
      open_row = row;
      ++binds;
    } else if (action == "unbind") {
      EXPECT_EQ(row, open_row) << "unbind of row " << row << " while row " << open_row
                               << " was the active one";
      open_row = 0;
    }
  }
  EXPECT_EQ(open_row, 0);
  EXPECT_EQ(binds, created.load());
}

class EventStormTest : public StormTest {
 protected:
  // One body with the events ids[begin, end).
  static std::string Body(const std::vector<std::string>& ids, size_t begin, size_t end,
                          bool redelivery) {
    std::string events;
    for (size_t i = begin; i < end && i < ids.size(); ++i) {
      absl::StrAppend(&events, events.empty() ? "" : ",", MessageEventJson(ids[i], redelivery));
    }
    return WebhookBody(Channel1().bot_user_id, events);
  }

  static int Post(const std::string& url, const std::string& body) {
    return PostSignedWebhookStatus(url, Channel1().secret, body, absl::Seconds(60));
  }

  static int64_t Metric(const std::string& text, const std::string& name) {
    const size_t at = text.find("\n" + name + " ");
    int64_t value = -1;
    if (at == std::string::npos) return value;
    const size_t start = at + name.size() + 2;
    (void)absl::SimpleAtoi(text.substr(start, text.find('\n', start) - start), &value);
    return value;
  }
};

TEST_F(EventStormTest, EveryEventElevenTimesIsStoredOnce) {
  const int count = EnvInt("STORM_EVENTS", 10000, /*min=*/1);
  constexpr int kCopies = 8;
  constexpr int kWorkers = 8;
  v1::BindChannelResponse bound;
  ASSERT_TRUE(channeld_->stub()
                  .BindChannel(Context().get(), BindRequestFor(Channel1(), "team-storm"), &bound)
                  .ok());
  const std::string url = bound.channel().webhook_url();
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) ids.push_back(absl::StrFormat("01JSTORM%018d", i));

  absl::Mutex mu;
  std::map<int, int> statuses;  // Guarded by mu.
  const auto record = [&](int status) {
    absl::MutexLock lock(&mu);
    ++statuses[status];
  };
  const absl::Time start = absl::Now();

  // First delivery: eight copies of each batch of 100 at the same moment.
  constexpr size_t kBatch = 100;
  const size_t batches = (ids.size() + kBatch - 1) / kBatch;
  std::vector<std::unique_ptr<absl::Barrier>> barriers;
  for (size_t b = 0; b < batches; ++b) barriers.push_back(std::make_unique<absl::Barrier>(kCopies));
  std::vector<std::thread> copies;
  for (int c = 0; c < kCopies; ++c) {
    copies.emplace_back([&] {
      for (size_t b = 0; b < batches; ++b) {
        const std::string body = Body(ids, b * kBatch, (b + 1) * kBatch, false);
        barriers[b]->Block();
        record(Post(url, body));
      }
    });
  }
  for (std::thread& t : copies) t.join();
  const absl::Time copies_done = absl::Now();

  // Then three redeliveries of every event, in other batches, mixed together: batches of 100
  // from the end, batches of 250 shifted by 50, and batches of 7 in random order.
  std::vector<std::pair<size_t, size_t>> work;
  for (size_t b = batches; b-- > 0;) work.push_back({b * kBatch, (b + 1) * kBatch});
  work.push_back({0, 50});
  for (size_t begin = 50; begin < ids.size(); begin += 250) work.push_back({begin, begin + 250});
  std::vector<std::pair<size_t, size_t>> sevens;
  for (size_t begin = 0; begin < ids.size(); begin += 7) sevens.push_back({begin, begin + 7});
  std::mt19937 random(7);
  std::shuffle(sevens.begin(), sevens.end(), random);
  work.insert(work.end(), sevens.begin(), sevens.end());
  std::shuffle(work.begin(), work.end(), random);
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      for (size_t i; (i = next++) < work.size();) {
        record(Post(url, Body(ids, work[i].first, work[i].second, true)));
      }
    });
  }
  for (std::thread& t : workers) t.join();
  const absl::Time end = absl::Now();

  EXPECT_EQ(statuses,
            (std::map<int, int>{{200, static_cast<int>(batches * kCopies + work.size())}}));

  std::map<std::string, int> stored;
  for (const v1::Event& e : ListAllEvents(channeld_->stub(), "team-storm")) {
    ++stored[e.webhook_event_id()];
  }
  int duplicates = 0;
  for (const auto& [id, n] : stored) duplicates += n - 1;
  EXPECT_EQ(static_cast<int>(stored.size()), count);
  EXPECT_EQ(duplicates, 0);
  for (const std::string& id : ids) {
    if (stored.count(id) == 0) {
      ADD_FAILURE() << "event " << id << " is not stored";
      break;
    }
  }

  // The counters saw the same: each event stored once and skipped ten times.
  auto metrics = HttpCall("GET", "http://" + channeld_->admin_address() + "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(Metric(metrics->body, "channeld_events_stored_total"), count);
  EXPECT_EQ(Metric(metrics->body, "channeld_events_duplicate_total"),
            static_cast<int64_t>(count) * (kCopies + 3 - 1));
  std::printf(
      "event storm: %d events x (%d simultaneous copies + 3 redeliveries) = %d requests, "
      "%lld deliveries of events: stored %zu, duplicates %d; copies took %s, redeliveries %s\n",
      count, kCopies, static_cast<int>(batches * kCopies + work.size()),
      static_cast<long long>(count) * (kCopies + 3), stored.size(), duplicates,
      absl::FormatDuration(copies_done - start).c_str(),
      absl::FormatDuration(end - copies_done).c_str());
}

}  // namespace
}  // namespace linechannel::testing
