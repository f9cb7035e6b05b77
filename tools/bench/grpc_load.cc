// bench_grpc_load: drives channeld's gRPC API with the callback client API and prints one JSON
// object with rates, latency percentiles and outcomes. Used by tools/bench/run; see README.md
// beside this file.
//
//   --mode=health      Health/Check, closed loop (the baseline for the write benchmarks)
//   --mode=bind_burst  one BindChannel per OA of --oas, --concurrency at a time (default: all
//                      at once); writes the bindings made to --out
//   --mode=cycles      BindChannel then UnbindChannel over the OAs of --oas, closed loop
//   --mode=storm       --storm_requests concurrent binds of the first OA of --oas from
//                      --storm_teams teams; checks that exactly one team won
//   --mode=check       one GetChannel and one GetWebhookUrl of --team_id/--channel_id
//   --mode=push        PushMessage, closed loop: one text message each to a user of --users,
//                      round robin over the OAs of --oas (which must be bound), a new
//                      request_id per call (--request_prefix + a counter)
//
// --oas is tab-separated: team_id, channel_id, channel_secret, access_token, line_id, app_name.
// --users is tab-separated: channel_id, user_id (a user of that channel at LINE).
// If --token_file exists, every ChannelService call carries "authorization: Bearer <token>".

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "linechannel/v1/channel_service.grpc.pb.h"
#include "server/base/json_writer.h"
#include "tools/bench/histogram.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "channeld's gRPC address.");
ABSL_FLAG(std::string, mode, "", "health, bind_burst, cycles, storm, check or push.");
ABSL_FLAG(std::string, token_file, "",
          "File with the admin token; sent as a Bearer token when the file exists.");
ABSL_FLAG(int, concurrency, 64, "Calls (or cycles) in flight; bind_burst: 0 means all.");
ABSL_FLAG(double, duration, 10, "Seconds of measurement (health, cycles, push).");
ABSL_FLAG(double, warmup, 1, "Seconds run before measuring (health, cycles, push).");
ABSL_FLAG(int, channels, 4, "gRPC channels (HTTP/2 connections) to spread the calls over.");
ABSL_FLAG(std::string, oas, "", "Tab-separated OAs (see the file comment).");
ABSL_FLAG(std::string, out, "", "bind_burst: where to write the bindings made.");
ABSL_FLAG(int, storm_teams, 50, "storm: teams that race for the one OA.");
ABSL_FLAG(int, storm_requests, 1000, "storm: concurrent binds in all.");
ABSL_FLAG(std::string, team_id, "", "check: the binding's team.");
ABSL_FLAG(std::string, channel_id, "", "check: the binding's channel.");
ABSL_FLAG(std::string, users, "", "push: tab-separated channel_id, user_id; one a line.");
ABSL_FLAG(std::string, request_prefix, "",
          "push: start of every request_id (default: bench-<time>-), then a counter.");

namespace linechannel::bench {
namespace {

namespace v1 = ::linechannel::v1;
using Clock = std::chrono::steady_clock;
using server::JsonString;
constexpr auto kCallDeadline = std::chrono::seconds(60);

uint64_t MicrosBetween(Clock::time_point a, Clock::time_point b) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(b - a).count());
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string HistogramJson(const Histogram& h) {
  return absl::StrFormat(
      "{\"count\":%d,\"p50_us\":%d,\"p90_us\":%d,\"p99_us\":%d,\"p999_us\":%d,\"mean_us\":%.1f,"
      "\"max_us\":%d}",
      h.count(), h.Percentile(0.5), h.Percentile(0.9), h.Percentile(0.99), h.Percentile(0.999),
      h.mean(), h.max());
}

// "OK", or the code with the ErrorInfo reason, e.g. "ALREADY_EXISTS/OA_BOUND_TO_OTHER_TEAM".
std::string Outcome(const grpc::Status& status) {
  std::string out = absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
  if (status.ok()) return out;
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (any.UnpackTo(&info)) return absl::StrCat(out, "/", info.reason());
    }
  }
  return out;
}

// Counts outcomes by name. Thread-safe.
class Outcomes {
 public:
  void Add(const std::string& outcome) {
    absl::MutexLock lock(&mu_);
    ++counts_[outcome];
  }
  int64_t Get(const std::string& outcome) {
    absl::MutexLock lock(&mu_);
    auto it = counts_.find(outcome);
    return it == counts_.end() ? 0 : it->second;
  }
  std::string Json() {
    absl::MutexLock lock(&mu_);
    server::JsonObjectWriter out;
    for (const auto& [name, count] : counts_) out.Int(name, count);
    return out.Finish();
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, int64_t> counts_ ABSL_GUARDED_BY(mu_);
};

struct Oa {
  std::string team_id, channel_id, secret, token, line_id, app_name;
};

std::vector<Oa> ReadOas(const std::string& path) {
  std::vector<Oa> oas;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() < 6) {
      std::cerr << "bench_grpc_load: bad line in " << path << ": " << line << "\n";
      std::exit(2);
    }
    oas.push_back({f[0], f[1], f[2], f[3], f[4], f[5]});
  }
  return oas;
}

std::string ReadToken(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream text;
  text << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(text.str()));
}

// Stubs over several channels, each its own connection, used round robin.
class Client {
 public:
  Client(const std::string& server, int channels, std::string token) : token_(std::move(token)) {
    for (int i = 0; i < std::max(1, channels); ++i) {
      grpc::ChannelArguments args;
      // A channel of its own per stub: without it equal channels share one connection.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("bench.channel_index", i);
      auto channel = grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args);
      services_.push_back(v1::ChannelService::NewStub(channel));
      health_.push_back(grpc::health::v1::Health::NewStub(channel));
    }
  }

  v1::ChannelService::Stub* service(size_t i) { return services_[i % services_.size()].get(); }
  grpc::health::v1::Health::Stub* health(size_t i) { return health_[i % health_.size()].get(); }

  void Prepare(grpc::ClientContext& context, bool authorize) const {
    context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    if (authorize && !token_.empty()) context.AddMetadata("authorization", "Bearer " + token_);
  }

  bool has_token() const { return !token_.empty(); }

 private:
  std::string token_;
  std::vector<std::unique_ptr<v1::ChannelService::Stub>> services_;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health_;
};

// Keeps `concurrency` operations in flight until `stop`. `op(worker, done)` starts one
// operation of that worker and calls `done` when it has finished.
void ClosedLoop(int concurrency, Clock::time_point stop,
                const std::function<void(int, std::function<void()>)>& op) {
  absl::BlockingCounter workers(concurrency);
  std::function<void(int)> next = [&](int worker) {
    if (Clock::now() >= stop) {
      workers.DecrementCount();
      return;
    }
    op(worker, [&next, worker] { next(worker); });
  };
  for (int w = 0; w < concurrency; ++w) next(w);
  workers.Wait();
}

// One unary call in flight: what gRPC needs to live until its callback has run.
template <typename Request, typename Response>
struct Call {
  grpc::ClientContext context;
  Request request;
  Response response;
  Clock::time_point start;
};

// Issues BindChannel for `oa` and calls `done(status, response)`.
void Bind(Client& client, size_t i, const Oa& oa,
          std::function<void(const grpc::Status&, const v1::BindChannelResponse&)> done) {
  auto* call = new Call<v1::BindChannelRequest, v1::BindChannelResponse>;
  client.Prepare(call->context, true);
  call->request.set_team_id(oa.team_id);
  call->request.set_app_name(oa.app_name);
  call->request.set_channel_id(oa.channel_id);
  call->request.set_channel_secret(oa.secret);
  call->request.set_channel_access_token(oa.token);
  call->request.set_line_id(oa.line_id);
  client.service(i)->async()->BindChannel(&call->context, &call->request, &call->response,
                                          [call, done = std::move(done)](grpc::Status status) {
                                            done(status, call->response);
                                            delete call;
                                          });
}

void Unbind(Client& client, size_t i, const Oa& oa, std::function<void(const grpc::Status&)> done) {
  auto* call = new Call<v1::UnbindChannelRequest, v1::UnbindChannelResponse>;
  client.Prepare(call->context, true);
  call->request.set_team_id(oa.team_id);
  call->request.set_channel_id(oa.channel_id);
  client.service(i)->async()->UnbindChannel(&call->context, &call->request, &call->response,
                                            [call, done = std::move(done)](grpc::Status status) {
                                              done(status);
                                              delete call;
                                            });
}

// The part of a run that counts: after --warmup seconds, for --duration seconds.
struct MeasureWindow {
  Clock::time_point from;
  Clock::time_point stop;
};
MeasureWindow WindowFromNow() {
  const auto seconds = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  const Clock::time_point from = Clock::now() + seconds(absl::GetFlag(FLAGS_warmup));
  return {from, from + seconds(absl::GetFlag(FLAGS_duration))};
}

int RunHealth(Client& client) {
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const MeasureWindow window = WindowFromNow();
  const Clock::time_point measure_from = window.from, stop = window.stop;
  Histogram latency;
  Outcomes outcomes;
  ClosedLoop(concurrency, stop, [&](int worker, std::function<void()> done) {
    auto* call =
        new Call<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse>;
    client.Prepare(call->context, false);
    call->start = Clock::now();
    client.health(worker)->async()->Check(&call->context, &call->request, &call->response,
                                          [&, call, done = std::move(done)](grpc::Status status) {
                                            const auto end = Clock::now();
                                            if (call->start >= measure_from && end <= stop) {
                                              outcomes.Add(Outcome(status));
                                              if (status.ok())
                                                latency.Record(MicrosBetween(call->start, end));
                                            }
                                            delete call;
                                            done();
                                          });
  });
  const double seconds = Seconds(stop - measure_from);
  std::cout << absl::StrFormat(
                   "{\"mode\":\"health\",\"concurrency\":%d,\"seconds\":%.3f,\"rate\":%.1f,"
                   "\"latency\":%s,\"outcomes\":%s}",
                   concurrency, seconds, latency.count() / seconds, HistogramJson(latency),
                   outcomes.Json())
            << std::endl;
  return 0;
}

// The webhook key is the last path segment of the webhook URL.
std::string WebhookKey(const std::string& url) {
  const size_t slash = url.rfind('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

int RunBindBurst(Client& client) {
  const std::vector<Oa> oas = ReadOas(absl::GetFlag(FLAGS_oas));
  int concurrency = absl::GetFlag(FLAGS_concurrency);
  if (concurrency <= 0 || concurrency > static_cast<int>(oas.size())) {
    concurrency = static_cast<int>(oas.size());
  }
  Histogram latency;
  Outcomes outcomes;
  absl::Mutex mu;
  std::vector<std::string> lines;
  std::atomic<size_t> next_oa{0};
  absl::BlockingCounter all(static_cast<int>(oas.size()));
  std::function<void(int)> issue = [&](int worker) {
    const size_t i = next_oa.fetch_add(1);
    if (i >= oas.size()) return;
    const Oa* oa = &oas[i];
    const auto start = Clock::now();
    Bind(client, i, *oa,
         [&, start, worker, oa](const grpc::Status& status, const v1::BindChannelResponse& r) {
           latency.Record(MicrosBetween(start, Clock::now()));
           outcomes.Add(Outcome(status));
           if (status.ok()) {
             const v1::Channel& c = r.channel();
             absl::MutexLock lock(&mu);
             lines.push_back(absl::StrCat(oa->team_id, "\t", oa->channel_id, "\t",
                                          WebhookKey(c.webhook_url()), "\t", oa->secret, "\t",
                                          c.bot_user_id(), "\t", c.webhook_url()));
           }
           issue(worker);
           all.DecrementCount();
         });
  };
  const auto begin = Clock::now();
  for (int w = 0; w < concurrency; ++w) issue(w);
  all.Wait();
  const double seconds = Seconds(Clock::now() - begin);
  if (!absl::GetFlag(FLAGS_out).empty()) {
    std::ofstream out(absl::GetFlag(FLAGS_out));
    for (const std::string& line : lines) out << line << "\n";
  }
  std::cout << absl::StrFormat(
                   "{\"mode\":\"bind_burst\",\"requests\":%d,\"concurrency\":%d,"
                   "\"seconds\":%.3f,\"rate\":%.1f,\"bound\":%d,\"latency\":%s,\"outcomes\":%s}",
                   oas.size(), concurrency, seconds, oas.size() / seconds, lines.size(),
                   HistogramJson(latency), outcomes.Json())
            << std::endl;
  return lines.size() == oas.size() ? 0 : 1;
}

int RunCycles(Client& client) {
  const std::vector<Oa> oas = ReadOas(absl::GetFlag(FLAGS_oas));
  const int concurrency = std::min(absl::GetFlag(FLAGS_concurrency), static_cast<int>(oas.size()));
  if (concurrency < 1) {
    std::cerr << "bench_grpc_load: --oas has no OAs\n";
    return 2;
  }
  const MeasureWindow window = WindowFromNow();
  const Clock::time_point measure_from = window.from, stop = window.stop;
  Histogram bind_latency, unbind_latency, cycle_latency;
  Outcomes bind_outcomes, unbind_outcomes;
  std::atomic<int64_t> cycles{0};
  std::atomic<int64_t> left_bound{0};
  // Worker w owns the OAs w, w + concurrency, w + 2 * concurrency, ... and binds then unbinds
  // them in turn, so no two workers ever touch the same OA.
  std::vector<size_t> cursor(concurrency);
  for (int w = 0; w < concurrency; ++w) cursor[w] = w;
  ClosedLoop(concurrency, stop, [&](int worker, std::function<void()> done) {
    const Oa* oa = &oas[cursor[worker]];
    cursor[worker] += concurrency;
    if (cursor[worker] >= oas.size()) cursor[worker] = worker;
    const auto start = Clock::now();
    Bind(client, worker, *oa,
         [&, start, worker, oa, done = std::move(done)](const grpc::Status& status,
                                                        const v1::BindChannelResponse&) {
           const auto bound = Clock::now();
           const bool measured = start >= measure_from && bound <= stop;
           if (measured) {
             bind_outcomes.Add(Outcome(status));
             if (status.ok()) bind_latency.Record(MicrosBetween(start, bound));
           }
           if (!status.ok()) return done();
           Unbind(client, worker, *oa,
                  [&, start, bound, measured, done = std::move(done)](const grpc::Status& s) {
                    const auto end = Clock::now();
                    if (!s.ok()) ++left_bound;
                    if (measured && end <= stop) {
                      unbind_outcomes.Add(Outcome(s));
                      if (s.ok()) {
                        unbind_latency.Record(MicrosBetween(bound, end));
                        cycle_latency.Record(MicrosBetween(start, end));
                        ++cycles;
                      }
                    }
                    done();
                  });
         });
  });
  const double seconds = Seconds(stop - measure_from);
  std::cout << absl::StrFormat(
                   "{\"mode\":\"cycles\",\"oas\":%d,\"concurrency\":%d,\"seconds\":%.3f,"
                   "\"cycles\":%d,\"cycle_rate\":%.1f,\"rpc_rate\":%.1f,\"bind\":%s,"
                   "\"unbind\":%s,\"cycle\":%s,\"bind_outcomes\":%s,\"unbind_outcomes\":%s,"
                   "\"left_bound\":%d}",
                   oas.size(), concurrency, seconds, cycles.load(), cycles.load() / seconds,
                   2 * cycles.load() / seconds, HistogramJson(bind_latency),
                   HistogramJson(unbind_latency), HistogramJson(cycle_latency),
                   bind_outcomes.Json(), unbind_outcomes.Json(), left_bound.load())
            << std::endl;
  return left_bound.load() == 0 ? 0 : 1;
}

int RunStorm(Client& client) {
  const std::vector<Oa> oas = ReadOas(absl::GetFlag(FLAGS_oas));
  if (oas.empty()) {
    std::cerr << "bench_grpc_load: --oas has no OA\n";
    return 2;
  }
  const int teams = absl::GetFlag(FLAGS_storm_teams);
  const int requests = absl::GetFlag(FLAGS_storm_requests);
  struct Result {
    std::string team_id, outcome, binding_id;
    bool already_bound = false;
    Clock::time_point end;
  };
  std::vector<Result> results(requests);
  std::vector<Oa> attempts(requests, oas[0]);
  for (int i = 0; i < requests; ++i) {
    attempts[i].team_id = absl::StrCat(oas[0].team_id, "-", i % teams);
  }
  Histogram latency;
  Outcomes outcomes;
  absl::BlockingCounter all(requests);
  const auto begin = Clock::now();
  for (int i = 0; i < requests; ++i) {
    const auto start = Clock::now();
    Bind(client, i, attempts[i],
         [&, i, start](const grpc::Status& status, const v1::BindChannelResponse& r) {
           Result& result = results[i];
           result.end = Clock::now();
           result.team_id = attempts[i].team_id;
           result.outcome = Outcome(status);
           result.already_bound = r.already_bound();
           result.binding_id = r.channel().binding_id();
           latency.Record(MicrosBetween(start, result.end));
           outcomes.Add(result.outcome);
           all.DecrementCount();
         });
  }
  const auto issued = Clock::now();
  all.Wait();
  Clock::time_point last = begin, winner_at = begin;
  int winners = 0;
  std::set<std::string> ok_teams, ok_bindings;
  for (const Result& r : results) {
    if (r.end > last) last = r.end;
    if (r.outcome == "OK") {
      ok_teams.insert(r.team_id);
      ok_bindings.insert(r.binding_id);
      if (!r.already_bound) {
        ++winners;
        winner_at = r.end;
      }
    }
  }
  // What the store says afterwards: exactly one team may hold the OA.
  int holders = 0;
  std::string holder;
  for (int t = 0; t < teams; ++t) {
    grpc::ClientContext context;
    client.Prepare(context, true);
    v1::GetChannelRequest request;
    request.set_team_id(absl::StrCat(oas[0].team_id, "-", t));
    request.set_channel_id(oas[0].channel_id);
    v1::Channel channel;
    if (client.service(t)->GetChannel(&context, request, &channel).ok()) {
      ++holders;
      holder = request.team_id();
    }
  }
  const bool one_winner =
      winners == 1 && ok_teams.size() == 1 && ok_bindings.size() == 1 && holders == 1 &&
      outcomes.Get("OK") + outcomes.Get("ALREADY_EXISTS/OA_BOUND_TO_OTHER_TEAM") == requests;
  std::cout << absl::StrFormat(
                   "{\"mode\":\"storm\",\"requests\":%d,\"teams\":%d,\"issue_ms\":%.1f,"
                   "\"resolution_ms\":%.1f,\"winner_ms\":%.1f,\"rate\":%.1f,\"winners\":%d,"
                   "\"ok_teams\":%d,\"holders\":%d,\"holder\":%s,\"exactly_one_winner\":%s,"
                   "\"latency\":%s,\"outcomes\":%s}",
                   requests, teams, Seconds(issued - begin) * 1e3, Seconds(last - begin) * 1e3,
                   Seconds(winner_at - begin) * 1e3, requests / Seconds(last - begin), winners,
                   ok_teams.size(), holders, JsonString(holder), one_winner ? "true" : "false",
                   HistogramJson(latency), outcomes.Json())
            << std::endl;
  return one_winner ? 0 : 1;
}

int RunCheck(Client& client) {
  v1::GetChannelRequest get;
  get.set_team_id(absl::GetFlag(FLAGS_team_id));
  get.set_channel_id(absl::GetFlag(FLAGS_channel_id));
  v1::Channel channel;
  grpc::ClientContext c1;
  client.Prepare(c1, true);
  const grpc::Status s1 = client.service(0)->GetChannel(&c1, get, &channel);
  v1::GetWebhookUrlRequest url;
  url.set_team_id(get.team_id());
  url.set_channel_id(get.channel_id());
  v1::GetWebhookUrlResponse url_response;
  grpc::ClientContext c2;
  client.Prepare(c2, true);
  const grpc::Status s2 = client.service(0)->GetWebhookUrl(&c2, url, &url_response);
  grpc::health::v1::HealthCheckRequest health;
  grpc::health::v1::HealthCheckResponse health_response;
  grpc::ClientContext c3;
  client.Prepare(c3, false);
  const grpc::Status s3 = client.health(0)->Check(&c3, health, &health_response);
  std::cout << absl::StrFormat(
                   "{\"mode\":\"check\",\"GetChannel\":%s,\"GetWebhookUrl\":%s,"
                   "\"HealthCheck\":%s,\"authorized\":%s,\"webhook_url\":%s}",
                   JsonString(Outcome(s1)), JsonString(Outcome(s2)), JsonString(Outcome(s3)),
                   client.has_token() ? "true" : "false", JsonString(url_response.webhook_url()))
            << std::endl;
  return s1.ok() && s2.ok() && s3.ok() ? 0 : 1;
}

// channel_id -> the user ids of --users for that channel, in file order.
std::map<std::string, std::vector<std::string>> ReadUsers(const std::string& path) {
  std::map<std::string, std::vector<std::string>> users;
  std::ifstream in(path);
  if (!in) {
    std::cerr << "bench_grpc_load: cannot read --users " << path << "\n";
    std::exit(2);
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() < 2 || f[1].empty()) {
      std::cerr << "bench_grpc_load: bad line in " << path << ": " << line << "\n";
      std::exit(2);
    }
    users[f[0]].push_back(f[1]);
  }
  return users;
}

// How a PushMessage call ended: the push's state ("SENT", "PENDING", "FAILED") when the call
// succeeded (with "/REPEAT" when the request_id was already known), else Outcome().
std::string PushOutcome(const grpc::Status& status, const v1::PushMessageResponse& response) {
  if (!status.ok()) return Outcome(status);
  std::string state = v1::PushState_Name(response.push().state());
  if (!response.created()) absl::StrAppend(&state, "/REPEAT");
  return state;
}

int RunPush(Client& client) {
  const std::vector<Oa> all_oas = ReadOas(absl::GetFlag(FLAGS_oas));
  const auto users = ReadUsers(absl::GetFlag(FLAGS_users));
  // The OAs that have users, each with its users.
  struct Target {
    const Oa* oa;
    const std::vector<std::string>* users;
  };
  std::vector<Target> targets;
  for (const Oa& oa : all_oas) {
    auto it = users.find(oa.channel_id);
    if (it != users.end() && !it->second.empty()) targets.push_back({&oa, &it->second});
  }
  if (targets.empty()) {
    std::cerr << "bench_grpc_load: no OA of --oas has a user in --users\n";
    return 2;
  }
  std::string prefix = absl::GetFlag(FLAGS_request_prefix);
  if (prefix.empty()) {
    prefix = absl::StrCat("bench-",
                          std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count(),
                          "-");
  }
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  const MeasureWindow window = WindowFromNow();
  const Clock::time_point measure_from = window.from, stop = window.stop;
  Histogram latency;
  // `outcomes`: the calls of the measured window; `all_outcomes`: every call of the run,
  // warm-up and the calls finishing after the window included (what LINE should have got).
  Outcomes outcomes, all_outcomes;
  std::atomic<int64_t> next{0};
  const size_t n = targets.size();
  ClosedLoop(concurrency, stop, [&](int worker, std::function<void()> done) {
    const int64_t i = next.fetch_add(1);
    const Target& target = targets[static_cast<size_t>(i) % n];
    const std::vector<std::string>& to = *target.users;
    auto* call = new Call<v1::PushMessageRequest, v1::PushMessageResponse>;
    client.Prepare(call->context, true);
    call->request.set_team_id(target.oa->team_id);
    call->request.set_channel_id(target.oa->channel_id);
    call->request.set_to(to[(static_cast<size_t>(i) / n) % to.size()]);
    call->request.add_messages(absl::StrCat("{\"type\":\"text\",\"text\":\"bench push ", i, "\"}"));
    call->request.set_request_id(absl::StrCat(prefix, i));
    call->start = Clock::now();
    client.service(worker)->async()->PushMessage(
        &call->context, &call->request, &call->response,
        [&, call, done = std::move(done)](grpc::Status status) {
          const auto end = Clock::now();
          const std::string outcome = PushOutcome(status, call->response);
          all_outcomes.Add(outcome);
          if (call->start >= measure_from && end <= stop) {
            outcomes.Add(outcome);
            if (status.ok()) latency.Record(MicrosBetween(call->start, end));
          }
          delete call;
          done();
        });
  });
  const double seconds = Seconds(stop - measure_from);
  std::cout << absl::StrFormat(
                   "{\"mode\":\"push\",\"oas\":%d,\"users\":%d,\"concurrency\":%d,"
                   "\"seconds\":%.3f,\"rate\":%.1f,\"calls\":%d,\"request_prefix\":%s,"
                   "\"latency\":%s,\"outcomes\":%s,\"all_outcomes\":%s}",
                   n, users.size(), concurrency, seconds, latency.count() / seconds, next.load(),
                   JsonString(prefix), HistogramJson(latency), outcomes.Json(), all_outcomes.Json())
            << std::endl;
  return latency.count() > 0 ? 0 : 1;
}

}  // namespace
}  // namespace linechannel::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("Load generator for channeld's gRPC API (see the source).");
  absl::ParseCommandLine(argc, argv);
  using namespace linechannel::bench;
  Client client(absl::GetFlag(FLAGS_server), absl::GetFlag(FLAGS_channels),
                ReadToken(absl::GetFlag(FLAGS_token_file)));
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "health") return RunHealth(client);
  if (mode == "bind_burst") return RunBindBurst(client);
  if (mode == "cycles") return RunCycles(client);
  if (mode == "storm") return RunStorm(client);
  if (mode == "check") return RunCheck(client);
  if (mode == "push") return RunPush(client);
  std::cerr << "bench_grpc_load: --mode must be health, bind_burst, cycles, storm, check or push\n";
  return 2;
}
