// The crash test: channeld is killed with SIGKILL at random moments while several senders post
// correctly signed webhook events (retrying anything that got no 2xx, as LINE redelivers) and
// another sender binds and unbinds channels. After every kill, before the restart, the database
// must pass PRAGMA integrity_check and hold no half-written binding; at the end every event that
// got a 200 is stored exactly once, and every acknowledged bind or unbind is there.
// A SIGKILL spares the kernel's page cache, so this proves what the process does, not that its
// commits reach the disk: sqlite_durability_test counts those syncs, and
// audit_atomicity_contract.cc fails audit rows on purpose rather than hoping a kill lands
// between a change and its audit row.
//
// Parameters (environment): CRASH_TEST_EVENTS (1000), CRASH_TEST_KILLS (5),
// CRASH_TEST_SENDERS (4), CRASH_TEST_BINDS (50: the least number of bind/unbind calls; the bind
// sender keeps going until the last kill), CRASH_TEST_SEED (random), CRASH_TEST_DEADLINE_S
// (600). The suite runs the short defaults; tools/robustness/crash_test runs the full version.

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "SQLiteCpp/Database.h"
#include "SQLiteCpp/Statement.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/support/sqlite_rows.h"

namespace linechannel::testing {
namespace {

constexpr char kEventTeam[] = "team-events";
constexpr char kTeamX[] = "team-x";
constexpr char kTeamY[] = "team-y";

// A gRPC channel of our own (the harness's stubs are replaced on every restart) that reconnects
// quickly after a restart instead of backing off for seconds.
std::shared_ptr<grpc::Channel> FastReconnectChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

// A call the kill cut short: it may or may not have taken effect.
bool AnswerWasLost(const grpc::Status& answer) {
  return answer.error_code() == grpc::StatusCode::UNAVAILABLE ||
         answer.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

// The channels the bind sender binds and unbinds, added to the fake LINE platform.
std::vector<FixtureChannel> ExtraChannels() {
  std::vector<FixtureChannel> channels;
  for (int i = 1; i <= 4; ++i) {
    FixtureChannel c;
    c.channel_id = absl::StrCat("165700000", i);
    c.secret = absl::StrFormat("%032x", 0xc0ffee00 + i);
    c.token = absl::StrCat("CRASHTOKEN", i, "+longlived/", std::string(120, 'Q'), i, "=");
    c.bot_user_id = absl::StrFormat("U%032x", 0xb0700 + i);
    c.line_id = absl::StrCat("@crash", i, "oa");
    channels.push_back(c);
  }
  return channels;
}

// Everything wrong with the database file, read with a read-only connection of our own: the
// integrity check, foreign keys, and the binding invariants (one active binding per OA, every
// binding with its audit rows, no duplicate event). Empty when all is well.
std::vector<std::string> StoreProblems(const std::string& path) {
  std::vector<std::string> problems;
  try {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    {
      SQLite::Statement check(db, "PRAGMA integrity_check");
      std::vector<std::string> lines;
      while (check.executeStep()) lines.push_back(check.getColumn(0).getString());
      if (lines != std::vector<std::string>{"ok"}) {
        problems.push_back("integrity_check: " + absl::StrJoin(lines, "; "));
      }
    }
    const auto rows = [&db](const std::string& sql) { return SqliteRows(db, sql); };
    const std::vector<std::pair<std::string, std::string>> checks = {
        {"foreign_key_check", "PRAGMA foreign_key_check"},
        {"two active bindings of one channel",
         "SELECT channel_id, count(*) FROM bindings WHERE unbound_at_us IS NULL "
         "GROUP BY channel_id HAVING count(*) > 1"},
        {"two active bindings of one LINE ID",
         "SELECT line_id, count(*) FROM bindings WHERE unbound_at_us IS NULL "
         "GROUP BY line_id HAVING count(*) > 1"},
        {"two active bindings of one bot",
         "SELECT bot_user_id, count(*) FROM bindings WHERE unbound_at_us IS NULL AND "
         "bot_user_id IS NOT NULL GROUP BY bot_user_id HAVING count(*) > 1"},
        {"binding without its bind audit row",
         "SELECT b.binding_id FROM bindings b WHERE NOT EXISTS (SELECT 1 FROM audit_log a "
         "WHERE a.binding_row_id = b.row_id AND a.action = 'bind')"},
        {"unbound binding without its unbind audit row",
         "SELECT b.binding_id FROM bindings b WHERE b.unbound_at_us IS NOT NULL AND NOT EXISTS "
         "(SELECT 1 FROM audit_log a WHERE a.binding_row_id = b.row_id AND a.action = 'unbind')"},
        {"active binding with an unbind audit row",
         "SELECT b.binding_id FROM bindings b WHERE b.unbound_at_us IS NULL AND EXISTS "
         "(SELECT 1 FROM audit_log a WHERE a.binding_row_id = b.row_id AND a.action = 'unbind')"},
        {"half-unbound binding",
         "SELECT binding_id FROM bindings WHERE (unbound_at_us IS NULL) != (unbound_by IS NULL)"},
        {"audit row of another team or channel than its binding",
         "SELECT a.id FROM audit_log a JOIN bindings b ON b.row_id = a.binding_row_id "
         "WHERE a.team_id != b.team_id OR a.channel_id != b.channel_id"},
        {"event stored twice",
         "SELECT webhook_event_id, count(*) FROM events WHERE webhook_event_id IS NOT NULL "
         "GROUP BY binding_row_id, webhook_event_id HAVING count(*) > 1"},
    };
    for (const auto& [what, sql] : checks) {
      const std::vector<std::string> found = rows(sql);
      if (!found.empty()) problems.push_back(absl::StrCat(what, ": ", absl::StrJoin(found, ", ")));
    }
  } catch (const std::exception& e) {
    problems.push_back(absl::StrCat("cannot read ", path, ": ", e.what()));
  }
  return problems;
}

// What a channel of the bind sender may be, given every answer so far: unbound (team ""), or
// bound to a team with a binding id ("" when the bind's answer was lost).
struct MaybeBinding {
  std::string team;
  std::string binding_id;
  bool operator<(const MaybeBinding& o) const {
    return std::tie(team, binding_id) < std::tie(o.team, o.binding_id);
  }
  std::string ToString() const {
    return team.empty() ? "unbound"
                        : absl::StrCat(team, "/", binding_id.empty() ? "?" : binding_id);
  }
};

// The possible states of one channel, narrowed by definite answers and widened by lost ones.
class ChannelModel {
 public:
  ChannelModel() { possible_.insert({"", ""}); }

  bool MayBeUnbound() const { return possible_.count({"", ""}) > 0; }
  std::optional<std::string> CertainTeam() const {
    if (possible_.size() != 1 || possible_.begin()->team.empty()) return std::nullopt;
    return possible_.begin()->team;
  }

  void BindCreated(const std::string& team, const std::string& id) {
    Narrow("bind created " + id, [](const MaybeBinding& p) { return p.team.empty(); });
    possible_ = {{team, id}};
  }
  void BindRepeated(const std::string& team, const std::string& id) {
    Narrow("bind already_bound " + id, [&](const MaybeBinding& p) {
      return p.team == team && (p.binding_id.empty() || p.binding_id == id);
    });
    possible_ = {{team, id}};
  }
  void BindRefused(const std::string& team) {
    Narrow("bind refused: bound to another team",
           [&](const MaybeBinding& p) { return !p.team.empty() && p.team != team; });
  }
  void BindLost(const std::string& team) {
    if (MayBeUnbound()) possible_.insert({team, ""});
  }
  void Unbound(const std::string& team, const std::string& id) {
    Narrow("unbind of " + id, [&](const MaybeBinding& p) {
      return p.team == team && (p.binding_id.empty() || p.binding_id == id);
    });
    possible_ = {{"", ""}};
  }
  void UnbindNotFound(const std::string& team) {
    Narrow("unbind NOT_FOUND", [&](const MaybeBinding& p) { return p.team != team; });
  }
  void UnbindLost(const std::string& team) {
    for (const MaybeBinding& p : possible_) {
      if (p.team == team) {
        possible_.insert({"", ""});
        break;
      }
    }
  }

  // Whether the store's state (team "" when no active binding) is one the answers allow.
  bool Allows(const std::string& team, const std::string& id) const {
    for (const MaybeBinding& p : possible_) {
      if (p.team == team && (team.empty() || p.binding_id.empty() || p.binding_id == id)) {
        return true;
      }
    }
    return false;
  }

  std::string ToString() const {
    std::vector<std::string> states;
    for (const MaybeBinding& p : possible_) states.push_back(p.ToString());
    return absl::StrCat("{", absl::StrJoin(states, ", "), "}");
  }
  const std::vector<std::string>& violations() const { return violations_; }
  std::vector<std::string>& history() { return history_; }

 private:
  template <typename Keep>
  void Narrow(const std::string& answer, Keep keep) {
    std::set<MaybeBinding> kept;
    for (const MaybeBinding& p : possible_) {
      if (keep(p)) kept.insert(p);
    }
    if (kept.empty()) {
      violations_.push_back(absl::StrCat("answer \"", answer, "\" is impossible in state ",
                                         ToString(), " after ", absl::StrJoin(history_, "; ")));
      return;  // Keep the old states so later answers are still judged.
    }
    possible_ = std::move(kept);
  }

  std::set<MaybeBinding> possible_;
  std::vector<std::string> violations_;
  std::vector<std::string> history_;
};

class CrashTest : public ServiceTest {
 protected:
  void SetUp() override {
    // A run without kills or events would prove nothing, so those fall back to the defaults.
    events_ = EnvInt("CRASH_TEST_EVENTS", 1000, /*min=*/1);
    kills_ = EnvInt("CRASH_TEST_KILLS", 5, /*min=*/1);
    senders_ = EnvInt("CRASH_TEST_SENDERS", 4, /*min=*/1);
    binds_ = EnvInt("CRASH_TEST_BINDS", 50);
    deadline_ = absl::Now() + absl::Seconds(EnvInt("CRASH_TEST_DEADLINE_S", 600));
    seed_ = static_cast<uint32_t>(
        EnvInt("CRASH_TEST_SEED", static_cast<int>(std::random_device()() >> 1)));
    std::printf("crash_test: events=%d kills=%d senders=%d binds>=%d seed=%u\n", events_, kills_,
                senders_, binds_, seed_);
    ServiceTest::SetUp();
  }

  int events_ = 0;
  int kills_ = 0;
  int senders_ = 0;
  int binds_ = 0;
  uint32_t seed_ = 0;
  absl::Time deadline_;
};

TEST_F(CrashTest, NothingAcknowledgedIsLostAcrossKills) {
  // The channels of the bind sender, and the events' channel bound once before any kill.
  const std::vector<FixtureChannel> channels = ExtraChannels();
  const absl::Status added = line_->AddChannels(channels, "Crash");
  ASSERT_TRUE(added.ok()) << added;
  v1::BindChannelResponse events_binding;
  grpc::Status status = channeld_->stub().BindChannel(
      Context().get(), BindRequestFor(Channel1(), kEventTeam), &events_binding);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string webhook_url = events_binding.channel().webhook_url();
  const std::string grpc_address = channeld_->grpc_address();
  const std::string token = channeld_->admin_token();
  const std::string db_path = channeld_->db_path();

  std::atomic<bool> abort{false};
  std::atomic<int> acknowledged{0};
  std::atomic<int> attempts{0};
  std::atomic<int> senders_done{0};
  absl::Mutex mu;
  std::set<std::string> acknowledged_ids;  // Guarded by mu.
  std::map<int, int> answers;              // HTTP status -> count (0: no answer); by mu.
  std::vector<std::string> unexpected;     // Guarded by mu.

  // The event senders: each posts its share of the events one by one and retries each until it
  // gets a 2xx, as LINE's redelivery does (with isRedelivery set on the retries).
  std::vector<std::thread> threads;
  for (int s = 0; s < senders_; ++s) {
    threads.emplace_back([&, s] {
      for (int i = s; i < events_ && !abort; i += senders_) {
        const std::string id = absl::StrFormat("01JCRASH%02dE%012d", s, i);
        absl::Duration backoff = absl::Milliseconds(10);
        for (int attempt = 0; !abort; ++attempt) {
          const std::string body =
              WebhookBody(Channel1().bot_user_id, MessageEventJson(id, attempt > 0));
          auto response =
              PostSignedWebhook(webhook_url, Channel1().secret, body, absl::Seconds(10));
          ++attempts;
          const int code = response.ok() ? response->status : 0;
          {
            absl::MutexLock lock(&mu);
            ++answers[code];
            if (code != 0 && code != 200 && code != 503) {
              unexpected.push_back(
                  absl::StrCat("event ", id, ": HTTP ", code, " ", response->body));
            }
            if (code == 200) acknowledged_ids.insert(id);
          }
          if (code == 200) {
            ++acknowledged;
            break;
          }
          if (absl::Now() > deadline_) {
            abort = true;
            break;
          }
          absl::SleepFor(backoff);  // Pacing of redeliveries, not synchronisation.
          backoff = std::min(backoff * 2, absl::Milliseconds(200));
        }
      }
      ++senders_done;
    });
  }

  // The bind sender: binds and unbinds the extra channels as two teams, one call at a time per
  // channel, and keeps what every answer says about each channel.
  std::atomic<bool> killing_done{false};
  std::atomic<int> bind_calls{0};
  std::map<std::string, ChannelModel> models;  // Only the bind sender touches it until joined.
  std::set<std::string> acked_bindings;        // Created binding ids; only the bind sender.
  std::set<std::string> acked_unbinds;         // Unbound binding ids; only the bind sender.
  int binds_acked = 0, unbinds_acked = 0, lost_answers = 0, refusals = 0;
  const auto note_unexpected = [&](const std::string& call, const grpc::Status& answer) {
    absl::MutexLock lock(&mu);
    unexpected.push_back(absl::StrCat(call, ": ", answer.error_code(), " ", Reason(answer), " ",
                                      answer.error_message()));
  };
  std::thread bind_sender([&] {
    std::mt19937 random(seed_ + 1);
    const std::shared_ptr<grpc::Channel> grpc_channel = FastReconnectChannel(grpc_address);
    auto stub = v1::ChannelService::NewStub(grpc_channel);
    while (!abort && (bind_calls < binds_ || !killing_done)) {
      const FixtureChannel& channel = channels[random() % channels.size()];
      ChannelModel& model = models[channel.channel_id];
      const std::string team = random() % 2 == 0 ? kTeamX : kTeamY;
      // Mostly the call that changes something; sometimes a repeat or another team's bind.
      bool bind = model.MayBeUnbound();
      if (auto holder = model.CertainTeam()) bind = random() % 4 == 0;
      ++bind_calls;
      grpc::Status answer;
      if (bind) {
        v1::BindChannelRequest request = BindRequestFor(channel, team);
        request.set_app_name("Crash app " + channel.channel_id);
        v1::BindChannelResponse response;
        answer = stub->BindChannel(AuthContext(token, absl::Seconds(10)).get(), request, &response);
        const std::string id = response.channel().binding_id();
        model.history().push_back(absl::StrCat("bind ", team, " -> ", answer.error_code(), " ",
                                               answer.ok() ? id : Reason(answer),
                                               response.already_bound() ? " (already)" : ""));
        if (answer.ok() && !response.already_bound()) {
          model.BindCreated(team, id);
          acked_bindings.insert(id);
          ++binds_acked;
        } else if (answer.ok()) {
          model.BindRepeated(team, id);
        } else if (answer.error_code() == grpc::StatusCode::ALREADY_EXISTS &&
                   Reason(answer) == "OA_BOUND_TO_OTHER_TEAM") {
          model.BindRefused(team);
          ++refusals;
        } else if (AnswerWasLost(answer)) {
          model.BindLost(team);
          ++lost_answers;
        } else {
          note_unexpected(absl::StrCat("bind ", channel.channel_id, " as ", team), answer);
          model.BindLost(team);
        }
      } else {
        const std::string holder = model.CertainTeam().value_or(team);
        v1::UnbindChannelRequest request;
        request.set_team_id(holder);
        request.set_channel_id(channel.channel_id);
        v1::UnbindChannelResponse response;
        answer =
            stub->UnbindChannel(AuthContext(token, absl::Seconds(10)).get(), request, &response);
        const std::string id = response.channel().binding_id();
        model.history().push_back(absl::StrCat("unbind ", holder, " -> ", answer.error_code(), " ",
                                               answer.ok() ? id : Reason(answer)));
        if (answer.ok()) {
          model.Unbound(holder, id);
          acked_unbinds.insert(id);
          ++unbinds_acked;
        } else if (answer.error_code() == grpc::StatusCode::NOT_FOUND) {
          model.UnbindNotFound(holder);
          ++refusals;
        } else if (AnswerWasLost(answer)) {
          model.UnbindLost(holder);
          ++lost_answers;
        } else {
          note_unexpected(absl::StrCat("unbind ", channel.channel_id, " as ", holder), answer);
          model.UnbindLost(holder);
        }
      }
      if (answer.error_code() == grpc::StatusCode::UNAVAILABLE) {
        // The server is down: wait until it is back rather than spin.
        grpc_channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
      }
      if (absl::Now() > deadline_) abort = true;
    }
  });

  // The killer: each kill at a random moment, spread over the events (kill k after a random
  // number of acknowledgements within the k-th share), then a random few milliseconds more.
  std::mt19937 random(seed_);
  int kills = 0, restarts = 0, failed_restarts = 0;
  std::vector<std::string> store_problems;
  // Returns why the run cannot go on ("" when it can); the threads are joined either way.
  const auto kill_and_restart = [&](int k) -> std::string {
    const int share = std::max(1, events_ / std::max(1, kills_));
    const int target = k * share + static_cast<int>(random() % share);
    while (acknowledged < target && senders_done < senders_) {
      if (abort) return "a sender gave up";
      absl::SleepFor(absl::Milliseconds(1));  // Polling a condition, with the run's deadline.
      if (absl::Now() > deadline_) return "the run did not finish before CRASH_TEST_DEADLINE_S";
    }
    if (senders_done == senders_) {
      // The events are all in: kill during the bind traffic alone.
      absl::SleepFor(absl::Milliseconds(20 + random() % 300));
    } else {
      absl::SleepFor(absl::Microseconds(random() % 20000));
    }
    const pid_t pid = channeld_->pid();
    if (pid <= 0 || kill(pid, SIGKILL) != 0) return "channeld is not running";
    ++kills;
    // Stop() reaps the killed process (its SIGTERM to the dead process does nothing).
    absl::StatusOr<int> exit_status = channeld_->Stop();
    if (!exit_status.ok()) return absl::StrCat("reaping: ", exit_status.status().ToString());
    if (!WIFSIGNALED(*exit_status) || WTERMSIG(*exit_status) != SIGKILL) {
      store_problems.push_back(
          absl::StrCat("channeld ended by itself before kill ", kills, ": status ", *exit_status));
    }
    for (const std::string& problem : StoreProblems(db_path)) {
      store_problems.push_back(absl::StrCat("after kill ", kills, ": ", problem));
    }
    // A restart can fail only if something else took one of the ports meanwhile; say so and
    // retry.
    absl::Status restarted = channeld_->Restart();
    for (int retry = 0; !restarted.ok() && retry < 3; ++retry) {
      ++failed_restarts;
      std::printf("crash_test: restart failed (%s); retrying\n", restarted.ToString().c_str());
      absl::SleepFor(absl::Milliseconds(200));
      restarted = channeld_->Restart();
    }
    if (!restarted.ok()) return absl::StrCat("restart: ", restarted.ToString());
    ++restarts;
    return "";
  };
  std::string stopped_early;
  for (int k = 0; k < kills_ && stopped_early.empty(); ++k) stopped_early = kill_and_restart(k);
  if (!stopped_early.empty()) abort = true;
  killing_done = true;
  for (std::thread& t : threads) t.join();
  bind_sender.join();
  ASSERT_EQ(stopped_early, "");
  ASSERT_FALSE(abort) << "the run did not finish before CRASH_TEST_DEADLINE_S";
  ASSERT_EQ(kills, kills_);
  EXPECT_THAT(store_problems, ::testing::IsEmpty());
  EXPECT_THAT(unexpected, ::testing::IsEmpty());

  // The service is healthy after the last restart and still takes webhooks.
  auto health = grpc::health::v1::Health::NewStub(FastReconnectChannel(grpc_address));
  grpc::health::v1::HealthCheckResponse serving;
  ASSERT_TRUE(health->Check(Context().get(), {}, &serving).ok());
  EXPECT_EQ(serving.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  // Every acknowledged event is stored once: read them back through the API.
  std::map<std::string, int> stored;
  for (const v1::Event& e : ListAllEvents(channeld_->stub(), kEventTeam)) {
    ++stored[e.webhook_event_id()];
  }
  int duplicates = 0;
  for (const auto& [id, count] : stored) duplicates += count - 1;
  int missing = 0;
  for (const std::string& id : acknowledged_ids) {
    if (stored.count(id) == 0) {
      if (++missing <= 10) ADD_FAILURE() << "acknowledged event " << id << " is not stored";
    }
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(static_cast<int>(acknowledged_ids.size()), events_);
  EXPECT_EQ(static_cast<int>(stored.size()), events_);  // Nothing but what was sent.

  // The bindings: every acknowledged change is there, the final state is one the answers
  // allow, and GetChannel agrees with the database.
  ASSERT_TRUE(channeld_->Stop().ok());
  for (const std::string& problem : StoreProblems(db_path)) {
    ADD_FAILURE() << "after the final stop: " << problem;
  }
  std::map<std::string, std::pair<std::string, std::string>> active;  // channel -> team, id
  {
    SQLite::Database db(db_path, SQLite::OPEN_READONLY);
    SQLite::Statement query(
        db, "SELECT channel_id, team_id, binding_id FROM bindings WHERE unbound_at_us IS NULL");
    while (query.executeStep()) {
      active[query.getColumn(0).getString()] = {query.getColumn(1).getString(),
                                                query.getColumn(2).getString()};
    }
    SQLite::Statement by_id(db,
                            "SELECT team_id, channel_id, unbound_at_us IS NOT NULL FROM bindings "
                            "WHERE binding_id = ?");
    for (const std::string& id : acked_bindings) {
      by_id.reset();
      by_id.bind(1, id);
      EXPECT_TRUE(by_id.executeStep()) << "acknowledged binding " << id << " is not stored";
    }
    for (const std::string& id : acked_unbinds) {
      by_id.reset();
      by_id.bind(1, id);
      ASSERT_TRUE(by_id.executeStep()) << "unbound binding " << id << " is not stored";
      EXPECT_EQ(by_id.getColumn(2).getInt(), 1) << "acknowledged unbind of " << id << " is lost";
    }
  }
  for (auto& [channel_id, model] : models) {
    for (const std::string& v : model.violations()) ADD_FAILURE() << channel_id << ": " << v;
    const auto it = active.find(channel_id);
    const std::string team = it == active.end() ? "" : it->second.first;
    const std::string id = it == active.end() ? "" : it->second.second;
    EXPECT_TRUE(model.Allows(team, id))
        << channel_id << " is " << (team.empty() ? "unbound" : team + "/" + id)
        << " in the store, but the answers allow only " << model.ToString()
        << "; history: " << absl::StrJoin(model.history(), "; ");
  }
  ASSERT_TRUE(channeld_->Restart().ok());
  for (const FixtureChannel& c : channels) {
    const auto it = active.find(c.channel_id);
    for (const char* team : {kTeamX, kTeamY}) {
      v1::GetChannelRequest get;
      get.set_team_id(team);
      get.set_channel_id(c.channel_id);
      v1::Channel got;
      status = channeld_->stub().GetChannel(Context().get(), get, &got);
      if (it != active.end() && it->second.first == team) {
        EXPECT_TRUE(status.ok()) << c.channel_id << " " << team << ": " << status.error_message();
        EXPECT_EQ(got.binding_id(), it->second.second);
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << c.channel_id << " " << team;
      }
    }
  }

  std::string answer_counts;
  for (const auto& [code, count] : answers) {
    absl::StrAppend(&answer_counts, answer_counts.empty() ? "" : " ",
                    code == 0 ? "none" : absl::StrCat(code), ":", count);
  }
  std::printf(
      "crash_test summary: events sent=%d attempts=%d acknowledged(200)=%zu stored=%zu "
      "duplicates=%d missing=%d kills=%d restarts=%d failed_restarts=%d | binds acknowledged=%d "
      "unbinds acknowledged=%d bind/unbind calls=%d lost answers=%d refusals=%d | http answers "
      "%s | seed=%u\n",
      events_, attempts.load(), acknowledged_ids.size(), stored.size(), duplicates, missing, kills,
      restarts, failed_restarts, binds_acked, unbinds_acked, bind_calls.load(), lost_answers,
      refusals, answer_counts.c_str(), seed_);
  std::fflush(stdout);
}

}  // namespace
}  // namespace linechannel::testing
