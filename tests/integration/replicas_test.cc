// Three real channeld replicas on one PostgreSQL database, each its own process and data
// directory, sharing the sealing key and callers files: one winner of a bind storm spread over
// them, events stored once whichever replica receives them and read in one order from any,
// an unbind on one reaching the others' caches, a replica killed during ingest, PostgreSQL
// stopping and coming back under a running replica, and a replica with the wrong key file.
//
// Parameters (environment): REPLICAS_BIND_ROUNDS (2) storms of REPLICAS_BINDS (1000) binds;
// REPLICAS_EVENTS (600) events of the ingest tests.

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/harness.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/verify_response.h"

namespace linechannel::testing {
namespace {

using ::grpc::health::v1::HealthCheckResponse;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kTeam[] = "team-replicas";

// The same webhook URL on another replica: the key is the binding's, the host the replica's.
std::string UrlOn(const Channeld& replica, const std::string& url) {
  return absl::StrCat("http://", replica.webhook_address(), url.substr(url.find("/line/")));
}

// Polls `done` until it holds or `deadline` passes; returns whether it held.
template <typename Condition>
bool WaitFor(Condition done, absl::Duration deadline = absl::Seconds(30)) {
  const absl::Time end = absl::Now() + deadline;
  while (!done()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

HealthCheckResponse::ServingStatus Health(grpc::health::v1::Health::Stub& health) {
  HealthCheckResponse response;
  const grpc::Status status = health.Check(Context(absl::Seconds(5)).get(), {}, &response);
  return status.ok() ? response.status() : HealthCheckResponse::UNKNOWN;
}

int HealthzStatus(const Channeld& replica) {
  const absl::StatusOr<HttpResponse> response =
      HttpCall("GET", "http://" + replica.admin_address() + "/healthz");
  return response.ok() ? response->status : 0;
}

// How many times each webhookEventId is stored for kTeam, and the order ListEvents gives.
struct Stored {
  std::map<std::string, int> counts;
  std::vector<std::string> order;
};
Stored StoredEvents(Channeld& replica) {
  Stored stored;
  for (const v1::Event& e : ListAllEvents(replica.stub(), kTeam)) {
    ++stored.counts[e.webhook_event_id()];
    stored.order.push_back(e.webhook_event_id());
  }
  return stored;
}

// Every id of `acknowledged` stored exactly once, nothing stored twice, nothing but `sent`.
void ExpectStoredOnce(const Stored& stored, const std::set<std::string>& acknowledged,
                      const std::set<std::string>& sent) {
  int missing = 0, repeated = 0, unknown = 0;
  for (const std::string& id : acknowledged) {
    if (stored.counts.count(id) == 0 && ++missing <= 5) {
      ADD_FAILURE() << "event " << id << " got a 200 but is not stored";
    }
  }
  for (const auto& [id, n] : stored.counts) {
    if (n > 1 && ++repeated <= 5) ADD_FAILURE() << "event " << id << " is stored " << n << " times";
    if (sent.count(id) == 0 && ++unknown <= 5) ADD_FAILURE() << "event " << id << " was never sent";
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(repeated, 0);
  EXPECT_EQ(unknown, 0);
}

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FakeLine>> line = FakeLine::Start();
    ASSERT_TRUE(line.ok()) << line.status();
    line_ = *std::move(line);
  }

  // A fresh database of the suite's shared cluster.
  std::string SharedDatabase() {
    absl::StatusOr<PostgresCluster*> cluster = PostgresCluster::Shared();
    EXPECT_TRUE(cluster.ok()) << cluster.status();
    if (!cluster.ok()) return "";
    absl::StatusOr<std::string> url = (*cluster)->CreateDatabase();
    EXPECT_TRUE(url.ok()) << url.status();
    return url.ok() ? *url : "";
  }

  // A replica's options: the database, and the key and callers files all replicas share. The
  // first replica creates both files (and the admin token, in its data directory).
  Channeld::Options ReplicaOptions(const std::string& database_url) const {
    Channeld::Options options;
    options.line_api_base_url = line_->base_url();
    options.database_url = database_url;
    options.key_file = shared_.File("sealing.key");
    options.callers_file = shared_.File("callers");
    options.extra_flags = extra_flags_;
    if (!replicas_.empty()) options.admin_token = replicas_[0]->admin_token();
    return options;
  }

  // Starts `count` replicas on `database_url`, one after the other (the first one creates the
  // schema and the shared files). Check HasFatalFailure().
  void StartReplicas(const std::string& database_url, int count) {
    ASSERT_FALSE(database_url.empty());
    database_url_ = database_url;
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<std::unique_ptr<Channeld>> replica =
          Channeld::Start(ReplicaOptions(database_url));
      ASSERT_TRUE(replica.ok()) << "replica " << i << ": " << replica.status();
      replicas_.push_back(*std::move(replica));
    }
  }

  Channeld& replica(int i) { return *replicas_[i]; }

  std::unique_ptr<FakeLine> line_;
  // Flags every replica started after they are set gets.
  std::vector<std::string> extra_flags_;
  TempDir shared_;
  std::string database_url_;
  std::vector<std::unique_ptr<Channeld>> replicas_;
};

TEST_F(ReplicasTest, OneWinnerOfABindStormSpreadOverReplicas) {
  StartReplicas(SharedDatabase(), 3);
  ASSERT_FALSE(HasFatalFailure());
  const int calls = EnvInt("REPLICAS_BINDS", 1000, /*min=*/1);
  constexpr int kTeams = 50;
  constexpr int kChannelsPerReplica = 3;
  // stubs[i] calls replica i % 3: call i goes to stubs[i % stubs.size()], round-robin over the
  // replicas, each over several connections.
  std::vector<std::unique_ptr<v1::ChannelService::Stub>> stubs;
  for (int c = 0; c < kChannelsPerReplica; ++c) {
    for (const auto& r : replicas_) {
      stubs.push_back(v1::ChannelService::NewStub(OwnChannel(r->grpc_address())));
    }
  }
  // Between rounds the winner unbinds, each time on another replica, and the next storm starts
  // at once, while the other replicas' caches may still hold the binding: a replica must not
  // refuse (or allow) a bind on what its cache remembers.
  const int rounds = EnvInt("REPLICAS_BIND_ROUNDS", 2, /*min=*/1);
  std::set<std::string> binding_ids;
  for (int round = 0; round < rounds && !HasFailure(); ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round + 1));
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
      storm[i].context = AuthContext(replica(0).admin_token(), absl::Seconds(120));
    }
    absl::BlockingCounter done(calls);
    const absl::Time start = absl::Now();
    for (int i = 0; i < calls; ++i) {
      Call& call = storm[i];
      stubs[i % stubs.size()]->async()->BindChannel(
          call.context.get(), &call.request, &call.response, [&call, &done](grpc::Status status) {
            call.status = std::move(status);
            done.DecrementCount();
          });
    }
    done.Wait();  // Every call has its deadline, so this ends.

    std::map<std::string, int> answers;
    std::vector<const Call*> created;
    for (const Call& call : storm) {
      ++answers[Answer(call.status)];
      if (call.status.ok() && !call.response.already_bound()) created.push_back(&call);
    }
    std::printf("bind storm over 3 replicas, round %d: %d binds in %s: %s\n", round + 1, calls,
                absl::FormatDuration(absl::Now() - start).c_str(),
                absl::StrJoin(answers, " ", absl::PairFormatter("=")).c_str());
    ASSERT_EQ(created.size(), 1u) << absl::StrJoin(answers, " ", absl::PairFormatter("="));
    const std::string winner = created[0]->team;
    const std::string binding_id = created[0]->response.channel().binding_id();
    for (const Call& call : storm) {
      if (call.team == winner) {
        // The winning team's repeats of its own bind, on any replica, get its binding.
        EXPECT_TRUE(call.status.ok())
            << winner << ": " << Answer(call.status) << " " << call.status.error_message();
        EXPECT_EQ(call.response.channel().binding_id(), binding_id);
      } else {
        EXPECT_EQ(call.status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
            << call.team << ": " << Answer(call.status) << " " << call.status.error_message();
        EXPECT_EQ(Reason(call.status), "OA_BOUND_TO_OTHER_TEAM") << call.status.error_message();
      }
    }

    // Every replica agrees who holds the OA.
    for (size_t r = 0; r < replicas_.size(); ++r) {
      for (int t = 0; t < kTeams; ++t) {
        v1::GetChannelRequest get;
        get.set_team_id(absl::StrFormat("storm-team-%02d", t));
        get.set_channel_id(Channel1().channel_id);
        v1::Channel got;
        const grpc::Status status = replica(r).stub().GetChannel(Context().get(), get, &got);
        if (get.team_id() == winner) {
          EXPECT_TRUE(status.ok()) << "replica " << r << ": " << Answer(status);
          EXPECT_EQ(got.binding_id(), binding_id) << "replica " << r;
        } else {
          EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
              << "replica " << r << " " << get.team_id() << ": " << Answer(status);
        }
      }
    }

    v1::UnbindChannelRequest unbind;
    unbind.set_team_id(winner);
    unbind.set_channel_id(Channel1().channel_id);
    v1::UnbindChannelResponse unbound;
    const grpc::Status status = replica((round + 1) % replicas_.size())
                                    .stub()
                                    .UnbindChannel(Context().get(), unbind, &unbound);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(unbound.channel().binding_id(), binding_id);
    EXPECT_TRUE(binding_ids.insert(binding_id).second) << "binding id reused: " << binding_id;
  }
}

// Reads kTeam's event stream from one replica on a thread of its own, until it has `stop_after`
// events or is cancelled.
class StreamReader {
 public:
  StreamReader(Channeld& replica, int64_t after_cursor, size_t stop_after = SIZE_MAX,
               bool with_lifecycle = false)
      : stub_(replica.StubWithToken(replica.admin_token())) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
    v1::StreamEventsRequest request;
    request.set_team_id(kTeam);
    request.set_after_cursor(after_cursor);
    thread_ = std::thread([this, request, stop_after, with_lifecycle] {
      std::unique_ptr<grpc::ClientReader<v1::Event>> reader =
          stub_->StreamEvents(&context_, request);
      v1::Event event;
      while (reader->Read(&event)) {
        if (event.has_lifecycle() && !with_lifecycle) continue;
        absl::MutexLock lock(&mu_);
        events_.push_back(event);
        if (events_.size() >= stop_after) break;
      }
      context_.TryCancel();
      const grpc::Status status = reader->Finish();
      absl::MutexLock lock(&mu_);
      finished_ = true;
      status_ = status;
    });
  }
  ~StreamReader() { Stop(); }

  // Cancels the stream (if still open) and returns what it read.
  std::vector<v1::Event> Stop() {
    if (thread_.joinable()) {
      context_.TryCancel();
      thread_.join();
    }
    absl::MutexLock lock(&mu_);
    return events_;
  }
  // Whether it has read every id of `ids` (or has ended).
  bool HasAllOrEnded(const std::set<std::string>& ids) {
    absl::MutexLock lock(&mu_);
    if (finished_) return true;
    std::set<std::string> read;
    for (const v1::Event& e : events_) read.insert(e.webhook_event_id());
    return std::includes(read.begin(), read.end(), ids.begin(), ids.end());
  }
  bool Finished() {
    absl::MutexLock lock(&mu_);
    return finished_;
  }
  grpc::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  std::unique_ptr<v1::ChannelService::Stub> stub_;
  grpc::ClientContext context_;
  absl::Mutex mu_;
  std::vector<v1::Event> events_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

TEST_F(ReplicasTest, EventsAreStoredOnceAndStreamInOneOrderFromAnyReplica) {
  StartReplicas(SharedDatabase(), 3);
  ASSERT_FALSE(HasFatalFailure());
  const std::string url = BindForWebhooks(replica(0), Channel1(), kTeam);
  ASSERT_FALSE(HasFatalFailure());
  const int count = EnvInt("REPLICAS_EVENTS", 600, /*min=*/30);
  constexpr int kPerBody = 5;
  const int bodies = count / kPerBody;

  // C's stream starts from the beginning as the events start to arrive (so it reads both
  // backlog and live events) and stops after a third of them: B resumes from its last cursor
  // while events keep arriving.
  StreamReader from_c(replica(2), 0, /*stop_after=*/count / 3);

  absl::Mutex mu;
  std::set<std::string> sent, acknowledged;  // Guarded by mu.
  std::map<int, int> statuses;               // Guarded by mu.
  const auto post = [&](int r, const std::string& body, const std::vector<std::string>& ids) {
    const int status =
        PostSignedWebhookStatus(UrlOn(replica(r), url), Channel1().secret, body, absl::Seconds(60));
    absl::MutexLock lock(&mu);
    ++statuses[status];
    sent.insert(ids.begin(), ids.end());
    if (status == 200) acknowledged.insert(ids.begin(), ids.end());
  };
  const auto body_of = [&](int b, std::vector<std::string>* ids) {
    std::string events;
    for (int e = 0; e < kPerBody; ++e) {
      ids->push_back(absl::StrFormat("01JREPLICA%06dE%09d", b, e));
      absl::StrAppend(&events, events.empty() ? "" : ",", MessageEventJson(ids->back()));
    }
    return WebhookBody(Channel1().bot_user_id, events);
  };

  // Three senders at once: bodies round-robin over the replicas, and every fourth body also
  // as simultaneous copies to all three (the same webhookEventIds at the same moment).
  constexpr int kSenders = 3;
  std::optional<StreamReader> from_b;
  std::atomic<int> posted{0};
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&, s] {
      for (int b = s; b < bodies; b += kSenders) {
        std::vector<std::string> ids;
        const std::string body = body_of(b, &ids);
        if (b % 4 == 0) {
          absl::Barrier copies(3);
          std::vector<std::thread> threads;
          for (int r = 0; r < 3; ++r) {
            threads.emplace_back([&, r] {
              copies.Block();
              post(r, body, ids);
            });
          }
          for (std::thread& t : threads) t.join();
        } else {
          post(b % 3, body, ids);
        }
        ++posted;
      }
    });
  }
  // The resume: once C's stream has stopped, B continues from C's last cursor.
  const bool c_finished = WaitFor([&] { return from_c.Finished(); }, absl::Seconds(120));
  const std::vector<v1::Event> first = from_c.Stop();
  const int posted_at_resume = posted;
  if (!first.empty()) from_b.emplace(replica(1), first.back().cursor());
  for (std::thread& t : senders) t.join();
  ASSERT_TRUE(c_finished) << "C's stream did not receive " << count / 3 << " events; "
                          << from_c.status().error_message();
  ASSERT_TRUE(from_b.has_value());
  std::printf(
      "events over 3 replicas: C's stream stopped after %zu events; B resumed with %d of "
      "%d bodies posted\n",
      first.size(), posted_at_resume, bodies);

  absl::MutexLock lock(&mu);
  EXPECT_EQ(statuses, (std::map<int, int>{{200, bodies + (bodies + 3) / 4 * 2}}));
  std::set<std::string> after_resume = acknowledged;
  for (const v1::Event& e : first) after_resume.erase(e.webhook_event_id());
  EXPECT_TRUE(WaitFor([&] { return from_b->HasAllOrEnded(after_resume); }))
      << "B's resumed stream did not receive every acknowledged event";
  const std::vector<v1::Event> rest = from_b->Stop();

  // Each replica's ListEvents holds every event once, in one order; the two streams, C's and
  // B's resumed one, together read exactly that order: no gap, no repeat.
  std::vector<std::string> streamed;
  int64_t last_cursor = 0;
  for (const std::vector<v1::Event>* part : {&first, &rest}) {
    for (const v1::Event& e : *part) {
      EXPECT_GT(e.cursor(), last_cursor) << e.webhook_event_id();
      last_cursor = e.cursor();
      streamed.push_back(e.webhook_event_id());
    }
  }
  for (size_t r = 0; r < replicas_.size(); ++r) {
    SCOPED_TRACE(absl::StrCat("ListEvents on replica ", r));
    const Stored stored = StoredEvents(replica(r));
    ExpectStoredOnce(stored, acknowledged, sent);
    EXPECT_EQ(stored.counts.size(), acknowledged.size());
    EXPECT_EQ(stored.order, streamed);
  }
}

TEST_F(ReplicasTest, AnUnbindReachesTheOtherReplicasCaches) {
  StartReplicas(SharedDatabase(), 2);
  ASSERT_FALSE(HasFatalFailure());
  Channeld& a = replica(0);
  Channeld& b = replica(1);
  const std::string url_on_b = UrlOn(b, BindForWebhooks(a, Channel1(), kTeam));
  ASSERT_FALSE(HasFatalFailure());
  v1::GetChannelRequest get;
  get.set_team_id(kTeam);
  get.set_channel_id(Channel1().channel_id);

  // B's cache holds the binding and its secret: webhooks and a read on B.
  for (int i = 0; i < 3; ++i) {
    const std::string body = WebhookBody(
        Channel1().bot_user_id, MessageEventJson(absl::StrCat("01JWARM0000000000000000", i)));
    ASSERT_EQ(PostSignedWebhookStatus(url_on_b, Channel1().secret, body), 200);
  }
  v1::Channel got;
  ASSERT_TRUE(b.stub().GetChannel(Context().get(), get, &got).ok());

  v1::UnbindChannelRequest unbind;
  unbind.set_team_id(kTeam);
  unbind.set_channel_id(Channel1().channel_id);
  v1::UnbindChannelResponse unbound;
  const grpc::Status status = a.stub().UnbindChannel(Context().get(), unbind, &unbound);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const absl::Time unbound_at = absl::Now();

  // An empty events array (LINE's Verify button): 200 while B still takes the URL, and it
  // stores nothing should it still be taken.
  const std::string verify = WebhookBody(Channel1().bot_user_id, "");
  int last_webhook = 0;
  std::optional<absl::Duration> webhook_delay, read_delay;
  grpc::StatusCode last_read = grpc::StatusCode::OK;
  const absl::Time deadline = unbound_at + absl::Seconds(5);
  while ((!webhook_delay || !read_delay) && absl::Now() < deadline) {
    if (!webhook_delay) {
      last_webhook = PostSignedWebhookStatus(url_on_b, Channel1().secret, verify);
      if (last_webhook == 404) webhook_delay = absl::Now() - unbound_at;
    }
    if (!read_delay) {
      last_read = b.stub().GetChannel(Context().get(), get, &got).error_code();
      if (last_read == grpc::StatusCode::NOT_FOUND) read_delay = absl::Now() - unbound_at;
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  std::printf("unbind on A reached B: webhook 404 after %s, GetChannel NOT_FOUND after %s\n",
              webhook_delay ? absl::FormatDuration(*webhook_delay).c_str() : "never (5 s)",
              read_delay ? absl::FormatDuration(*read_delay).c_str() : "never (5 s)");
  EXPECT_TRUE(webhook_delay.has_value())
      << "B still answers the webhook URL with " << last_webhook << " 5 s after the unbind";
  EXPECT_TRUE(read_delay.has_value())
      << "B's GetChannel still answers " << last_read << " 5 s after the unbind";
}

// VerifyWebhook on A, while the load balancer sends LINE's test request to B: A finds B's
// record of the correctly signed request in the database (A's cache cannot know of it).
TEST_F(ReplicasTest, VerifyWebhookOnOneReplicaSeesTheTestRequestAnotherTook) {
  const std::string database_url = SharedDatabase();
  StartReplicas(database_url, 1);
  ASSERT_FALSE(HasFatalFailure());
  Channeld& b = replica(0);
  // A's public URL is B's webhook port: every webhook for A's bindings lands on B.
  Channeld::Options options = ReplicaOptions(database_url);
  options.extra_flags.push_back(absl::StrCat("--public_base_url=http://", b.webhook_address()));
  absl::StatusOr<std::unique_ptr<Channeld>> started = Channeld::Start(options);
  ASSERT_TRUE(started.ok()) << started.status();
  replicas_.push_back(*std::move(started));
  Channeld& a = replica(1);

  v1::BindChannelRequest bind = BindRequestFor(Channel1(), kTeam);
  bind.set_set_webhook_url(true);
  v1::BindChannelResponse bound;
  ASSERT_TRUE(a.stub().BindChannel(Context().get(), bind, &bound).ok());
  v1::VerifyWebhookRequest request;
  request.set_team_id(kTeam);
  request.set_channel_id(Channel1().channel_id);
  for (int round = 0; round < 2; ++round) {
    v1::VerifyWebhookResponse response;
    const grpc::Status status = a.stub().VerifyWebhook(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.verdict(), v1::OK) << round << ": " << response.summary();
    EXPECT_EQ(CheckOf(response, v1::SIGNATURE_VERIFIED).result(), v1::PASS)
        << round << ": " << CheckOf(response, v1::SIGNATURE_VERIFIED).summary();
  }
  // B took LINE's test requests, A none.
  const std::string binding_field =
      absl::StrCat("\"binding_id\":\"", bound.channel().binding_id(), "\"");
  EXPECT_THAT(b.ReadLogOnceItHas(binding_field), HasSubstr(binding_field));
  // After A stops its log is whole: a late batch cannot hide a webhook line.
  ASSERT_TRUE(a.Stop().ok());
  EXPECT_THAT(a.ReadLog(), ::testing::Not(HasSubstr("\"event\":\"webhook\"")));
}

// A binding made unverified while LINE failed is proved once LINE answers, by whichever
// replica runs the re-check job, and recorded once.
TEST_F(ReplicasTest, AnUnverifiedBindingIsProvedOnceByOneReplica) {
  extra_flags_ = {"--line_checks=best_effort", "--recheck_interval=1h",
                  "--recheck_unverified_first=100ms", "--recheck_unverified_max=300ms",
                  "--recheck_per_second=50",
                  // One public URL for all, as behind a load balancer: every replica's re-check
                  // then finds LINE's webhook URL to be the binding's.
                  "--public_base_url=https://channeld.example"};
  StartReplicas(SharedDatabase(), 3);
  ASSERT_FALSE(HasFatalFailure());
  auto failing = line_->Control("PATCH", "/fake/faults", R"({"fail_status":503})");
  ASSERT_TRUE(failing.ok() && failing->status == 200);
  v1::BindChannelResponse bound;
  grpc::Status status =
      replica(0).stub().BindChannel(Context().get(), BindRequestFor(Channel1(), kTeam), &bound);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_FALSE(bound.channel().verified_with_line());
  // Else the re-check that follows the proof rightly finds the binding unreachable, and the
  // state read below would depend on whether GetChannel ran before that re-check.
  const absl::Status pointed =
      line_->PointWebhookAt(bound.channel().channel_id(), bound.channel().webhook_url());
  ASSERT_TRUE(pointed.ok()) << pointed;
  auto answering = line_->Control("PATCH", "/fake/faults", R"({"fail_status":0})");
  ASSERT_TRUE(answering.ok() && answering->status == 200);

  v1::GetChannelRequest get;
  get.set_team_id(kTeam);
  get.set_channel_id(Channel1().channel_id);
  v1::Channel got;
  EXPECT_TRUE(WaitFor([&] {
    return replica(2).stub().GetChannel(Context().get(), get, &got).ok() &&
           got.verified_with_line();
  }));
  EXPECT_EQ(got.bot_user_id(), Channel1().bot_user_id);
  EXPECT_EQ(got.state(), v1::ACTIVE);
  // Let a few more rounds run on every replica: the proof is not recorded again.
  absl::SleepFor(absl::Seconds(1));
  // And the webhook re-check that follows each proof agreed.
  const v1::Channel after = GetChannelOf(replica(1).stub(), kTeam, Channel1().channel_id);
  EXPECT_EQ(after.state(), v1::ACTIVE);
  EXPECT_THAT(after.attention_reasons(), IsEmpty());
  v1::ListAuditEntriesRequest audit;
  audit.set_team_id(kTeam);
  audit.set_channel_id(Channel1().channel_id);
  v1::ListAuditEntriesResponse entries;
  status = replica(1).stub().ListAuditEntries(Context().get(), audit, &entries);
  ASSERT_TRUE(status.ok()) << status.error_message();
  int proofs = 0;
  for (const v1::AuditEntry& entry : entries.entries()) {
    proofs += entry.detail() == "verified by re-check";
  }
  EXPECT_EQ(proofs, 1);
}

// A change made on one replica is heard by a stream on another, in the one cursor order,
// among the webhook events that replica stored; a botSuspended stored on B suspends the
// binding A serves.
TEST_F(ReplicasTest, LifecycleEventsOfEveryReplicaStreamInOneOrder) {
  StartReplicas(SharedDatabase(), 2);
  ASSERT_FALSE(HasFatalFailure());
  Channeld& a = replica(0);
  Channeld& b = replica(1);
  StreamReader from_b(b, 0, /*stop_after=*/4, /*with_lifecycle=*/true);
  const std::string url_on_b = UrlOn(b, BindForWebhooks(a, Channel1(), kTeam));
  ASSERT_FALSE(HasFatalFailure());
  const std::string suspended =
      absl::StrCat(R"({"type":"botSuspended","timestamp":)", absl::ToUnixMillis(absl::Now()),
                   R"(,"mode":"active","webhookEventId":"01JSUSPENDED00000000000001",)",
                   R"("deliveryContext":{"isRedelivery":false}})");
  ASSERT_EQ(PostSignedWebhookStatus(url_on_b, Channel1().secret,
                                    WebhookBody(Channel1().bot_user_id, suspended)),
            200);
  const bool needs_attention = WaitFor(
      [&] {
        return GetChannelOf(a.stub(), kTeam, Channel1().channel_id).state() == v1::NEEDS_ATTENTION;
      },
      absl::Seconds(5));
  EXPECT_TRUE(needs_attention) << "A does not see the suspension stored on B";
  v1::UnbindChannelRequest unbind;
  unbind.set_team_id(kTeam);
  unbind.set_channel_id(Channel1().channel_id);
  v1::UnbindChannelResponse unbound;
  ASSERT_TRUE(a.stub().UnbindChannel(Context().get(), unbind, &unbound).ok());

  ASSERT_TRUE(WaitFor([&] { return from_b.Finished(); }, absl::Seconds(60)));
  const std::vector<v1::Event> events = from_b.Stop();
  std::vector<std::string> types;
  for (const v1::Event& e : events) types.push_back(e.type());
  EXPECT_THAT(types, ElementsAre("lifecycle.bound", "botSuspended", "lifecycle.bot_suspended",
                                 "lifecycle.unbound"));
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_GT(events[i].cursor(), events[i - 1].cursor());
  }
}

// The other direction: B has just answered that the team has no binding (a miss it might
// remember), then the OA is bound on A; B must serve the new binding, its reads and its URL.
TEST_F(ReplicasTest, ABindReachesAReplicaThatJustSawNone) {
  StartReplicas(SharedDatabase(), 2);
  ASSERT_FALSE(HasFatalFailure());
  Channeld& a = replica(0);
  Channeld& b = replica(1);
  v1::GetChannelRequest get;
  get.set_team_id(kTeam);
  get.set_channel_id(Channel1().channel_id);
  v1::Channel got;
  ASSERT_EQ(b.stub().GetChannel(Context().get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);

  const std::string url_on_b = UrlOn(b, BindForWebhooks(a, Channel1(), kTeam));
  ASSERT_FALSE(HasFatalFailure());
  const absl::Time bound_at = absl::Now();
  grpc::StatusCode last_read = grpc::StatusCode::NOT_FOUND;
  const bool seen = WaitFor(
      [&] {
        last_read = b.stub().GetChannel(Context().get(), get, &got).error_code();
        return last_read == grpc::StatusCode::OK;
      },
      absl::Seconds(5));
  std::printf("bind on A reached B's reads after %s\n",
              seen ? absl::FormatDuration(absl::Now() - bound_at).c_str() : "never (5 s)");
  EXPECT_TRUE(seen) << "B's GetChannel still answers " << last_read << " 5 s after the bind";
  const std::string body =
      WebhookBody(Channel1().bot_user_id, MessageEventJson("01JNEWBIND0000000000000001"));
  EXPECT_EQ(PostSignedWebhookStatus(url_on_b, Channel1().secret, body), 200);
}

TEST_F(ReplicasTest, EveryAcknowledgedEventSurvivesAKilledReplica) {
  StartReplicas(SharedDatabase(), 3);
  ASSERT_FALSE(HasFatalFailure());
  const std::string url = BindForWebhooks(replica(0), Channel1(), kTeam);
  ASSERT_FALSE(HasFatalFailure());
  const int count = EnvInt("REPLICAS_EVENTS", 600, /*min=*/30);
  constexpr int kSenders = 4;
  constexpr int kVictim = 1;
  std::vector<std::string> urls;
  for (const auto& r : replicas_) urls.push_back(UrlOn(*r, url));

  // Each sender posts its events one by one, round-robin over the replicas, and moves an event
  // that got no 200 on to the next replica, as a load balancer in front of them would.
  std::atomic<int> acknowledged_count{0};
  absl::Mutex mu;
  std::set<std::string> sent, acknowledged;  // Guarded by mu.
  std::map<std::string, int> answers;        // "replica/status" -> count; guarded by mu.
  std::atomic<bool> give_up{false};
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&, s] {
      int next = s;
      for (int i = s; i < count && !give_up; i += kSenders) {
        const std::string id = absl::StrFormat("01JKILL%02dE%015d", s, i);
        for (int attempt = 0; !give_up; ++attempt, ++next) {
          const int r = next % 3;
          const int status = PostSignedWebhookStatus(
              urls[r], Channel1().secret,
              WebhookBody(Channel1().bot_user_id, MessageEventJson(id, attempt > 0)),
              absl::Seconds(10));
          {
            absl::MutexLock lock(&mu);
            ++answers[absl::StrCat(r, "/", status)];
            sent.insert(id);
            if (status == 200) acknowledged.insert(id);
          }
          if (status == 200) {
            ++acknowledged_count;
            ++next;
            break;
          }
          if (attempt > 100) give_up = true;
          // Pacing of retries (the next replica may be the killed one, or busy), not
          // synchronisation.
          absl::SleepFor(absl::Milliseconds(std::min(10 * (attempt + 1), 200)));
        }
      }
    });
  }
  const bool reached =
      WaitFor([&] { return acknowledged_count >= count / 3 || give_up; }, absl::Seconds(120));
  const int killed = kill(replica(kVictim).pid(), SIGKILL);
  const absl::StatusOr<int> exit_status = replica(kVictim).Stop();  // Reaps it.
  const int acknowledged_at_kill = acknowledged_count;
  for (std::thread& t : senders) t.join();
  ASSERT_TRUE(reached);
  ASSERT_EQ(killed, 0);
  ASSERT_FALSE(give_up) << "an event got no 200 from any replica in 100 attempts";
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  EXPECT_TRUE(WIFSIGNALED(*exit_status) && WTERMSIG(*exit_status) == SIGKILL) << *exit_status;

  absl::MutexLock lock(&mu);
  std::printf(
      "kill during ingest: replica %d killed after %d of %d events acknowledged; "
      "answers (replica/status): %s\n",
      kVictim, acknowledged_at_kill, count,
      absl::StrJoin(answers, " ", absl::PairFormatter("=")).c_str());
  EXPECT_EQ(static_cast<int>(acknowledged.size()), count);
  for (int r : {0, 2}) {
    SCOPED_TRACE(absl::StrCat("ListEvents on replica ", r));
    const Stored stored = StoredEvents(replica(r));
    ExpectStoredOnce(stored, acknowledged, sent);
    EXPECT_EQ(stored.counts.size(), acknowledged.size());
  }
}

TEST_F(ReplicasTest, AReplicaRidesOutPostgresStoppingAndComingBack) {
  absl::StatusOr<std::unique_ptr<PostgresCluster>> cluster = PostgresCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<std::string> database = (*cluster)->CreateDatabase();
  ASSERT_TRUE(database.ok()) << database.status();
  StartReplicas(*database, 1);
  ASSERT_FALSE(HasFatalFailure());
  Channeld& replica = this->replica(0);
  const std::string url = BindForWebhooks(replica, Channel1(), kTeam);
  ASSERT_FALSE(HasFatalFailure());
  auto health = grpc::health::v1::Health::NewStub(OwnChannel(replica.grpc_address()));
  ASSERT_EQ(Health(*health), HealthCheckResponse::SERVING);

  // One sender posts events one by one and retries each until it gets a 200, as LINE
  // redelivers; every answer is kept with when its request began and ended.
  struct Reply {
    absl::Time begin, end;
    int status;
  };
  absl::Mutex mu;
  std::vector<Reply> answers;                // Guarded by mu.
  std::set<std::string> sent, acknowledged;  // Guarded by mu.
  std::atomic<bool> sending{true};
  std::thread sender([&] {
    for (int i = 0; sending; ++i) {
      const std::string id = absl::StrFormat("01JPGSTOP%017d", i);
      for (int attempt = 0; sending; ++attempt) {
        const std::string body =
            WebhookBody(Channel1().bot_user_id, MessageEventJson(id, attempt > 0));
        const absl::Time begin = absl::Now();
        const int status = PostSignedWebhookStatus(url, Channel1().secret, body, absl::Seconds(20));
        {
          absl::MutexLock lock(&mu);
          answers.push_back({begin, absl::Now(), status});
          sent.insert(id);
          if (status == 200) acknowledged.insert(id);
        }
        if (status == 200) break;
        absl::SleepFor(absl::Milliseconds(20));  // Pacing of redeliveries.
      }
    }
  });
  // Also when an assertion below ends the test early.
  absl::Cleanup stop_sender = [&] {
    sending = false;
    if (sender.joinable()) sender.join();
  };
  const auto answered_since = [&](absl::Time since, int status) {
    absl::MutexLock lock(&mu);
    return std::count_if(answers.begin(), answers.end(),
                         [&](const Reply& a) { return a.begin >= since && a.status == status; });
  };

  EXPECT_TRUE(WaitFor([&] { return answered_since(absl::InfinitePast(), 200) >= 20; }));
  ASSERT_TRUE((*cluster)->Stop().ok());
  const absl::Time stopped = absl::Now();
  EXPECT_TRUE(WaitFor([&] { return Health(*health) == HealthCheckResponse::NOT_SERVING; }))
      << "gRPC health still " << Health(*health) << " with PostgreSQL down";
  EXPECT_TRUE(WaitFor([&] { return HealthzStatus(replica) == 503; }))
      << "/healthz still " << HealthzStatus(replica) << " with PostgreSQL down";
  // Down for at least 1.5 s, so the replica's reconnects fail more than once.
  EXPECT_TRUE(WaitFor([&] {
    return answered_since(stopped, 503) >= 10 && absl::Now() - stopped > absl::Seconds(1.5);
  })) << "fewer than 10 webhooks answered 503 with PostgreSQL down";
  const absl::Time restarting = absl::Now();
  ASSERT_TRUE((*cluster)->StartAgain().ok());
  EXPECT_TRUE(WaitFor([&] { return Health(*health) == HealthCheckResponse::SERVING; }))
      << "gRPC health still " << Health(*health) << " after PostgreSQL came back";
  EXPECT_TRUE(WaitFor([&] { return HealthzStatus(replica) == 200; }));
  const absl::Time serving = absl::Now();
  EXPECT_TRUE(WaitFor([&] { return answered_since(restarting, 200) >= 20; }))
      << "webhooks are not answered 200 again after PostgreSQL came back";
  std::move(stop_sender).Invoke();

  absl::MutexLock lock(&mu);
  std::map<std::string, int> down, other;
  for (const Reply& a : answers) {
    // Requests wholly between the stop and the restart met a database that was down.
    const bool while_down = a.begin >= stopped && a.end <= restarting;
    ++(while_down ? down : other)[absl::StrCat(a.status)];
  }
  std::printf(
      "PostgreSQL down for %s, health SERVING %s after its restart; answers while down: "
      "%s; others: %s\n",
      absl::FormatDuration(restarting - stopped).c_str(),
      absl::FormatDuration(serving - restarting).c_str(),
      absl::StrJoin(down, " ", absl::PairFormatter("=")).c_str(),
      absl::StrJoin(other, " ", absl::PairFormatter("=")).c_str());
  EXPECT_THAT(down, ::testing::ElementsAre(::testing::Pair("503", ::testing::Gt(0))));
  ExpectStoredOnce(StoredEvents(replica), acknowledged, sent);
}

TEST_F(ReplicasTest, AReplicaWithAnotherKeyFileRefusesToStart) {
  StartReplicas(SharedDatabase(), 1);
  ASSERT_FALSE(HasFatalFailure());
  BindForWebhooks(replica(0), Channel1(), kTeam);  // Seals the secret and token.
  ASSERT_FALSE(HasFatalFailure());
  std::string key_id;
  for (absl::string_view line : absl::StrSplit(ReadFile(shared_.File("sealing.key")), '\n')) {
    if (absl::ConsumePrefix(&line, "current ")) key_id = std::string(line);
  }
  ASSERT_FALSE(key_id.empty());

  // A valid key file of another deployment: one key, under another id.
  const std::string other_key_file = shared_.File("other.key");
  {
    std::ofstream out(other_key_file);
    out << "key kother01 " << std::string(43, 'A') << "=\ncurrent kother01\n";
  }
  ASSERT_EQ(chmod(other_key_file.c_str(), 0600), 0);
  Channeld::Options options = ReplicaOptions(database_url_);
  options.key_file = other_key_file;
  const absl::StatusOr<std::unique_ptr<Channeld>> refused = Channeld::Start(options);
  ASSERT_FALSE(refused.ok()) << "a replica with another key file started";
  EXPECT_THAT(refused.status().message(), HasSubstr(key_id));
  EXPECT_THAT(refused.status().message(), HasSubstr("not in the key file"));
}

}  // namespace
}  // namespace linechannel::testing
