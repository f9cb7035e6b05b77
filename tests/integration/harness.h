#ifndef LINECHANNEL_TESTS_INTEGRATION_HARNESS_H_
#define LINECHANNEL_TESTS_INTEGRATION_HARNESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "linechannel/v1/admin_service.grpc.pb.h"
#include "linechannel/v1/channel_service.grpc.pb.h"
#include "tests/support/child_process.h"
#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"

namespace linechannel::testing {

// The fixture channels of testdata/channels.json, as the tests use them.
struct FixtureChannel {
  std::string channel_id;
  std::string secret;
  std::string token;
  std::string bot_user_id;
  std::string line_id;  // The basic ID with its "@".
};
const FixtureChannel& Channel1();
const FixtureChannel& Channel2();
const FixtureChannel& Channel3();

// The fake LINE platform (tools/fake_line) as a real process on a free loopback port.
class FakeLine {
 public:
  static absl::StatusOr<std::unique_ptr<FakeLine>> Start(std::vector<std::string> extra_args = {});
  const std::string& base_url() const { return base_url_; }
  // A call to its control API, e.g. Control("PATCH", "/fake/faults", R"({"fail_status":500})").
  absl::StatusOr<HttpResponse> Control(const std::string& method, const std::string& path,
                                       const std::string& body = "");
  // Makes LINE know more OAs beyond its fixture, each named "<display_name> <channel id>".
  absl::Status AddChannels(const std::vector<FixtureChannel>& channels,
                           const std::string& display_name);
  // What a support person does when binding could not: `url` as the channel's webhook URL at
  // LINE, "Use webhook" on. Without it a re-check rightly finds the binding unreachable.
  absl::Status PointWebhookAt(const std::string& channel_id, const std::string& url);

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string base_url_;
};

// channeld as a real process on free loopback ports, with its own data directory (kept across
// Restart) and its stderr (the JSON log) in a file.
class Channeld {
 public:
  struct Options {
    std::string line_api_base_url;
    std::vector<std::string> extra_flags;
    // Calls over TLS trusting this CA (PEM text) for the gRPC port.
    std::string grpc_tls_ca_pem;
    // The program: production channeld, or CHANNELD_TEST_HOOKS_PATH for tests that pass
    // --enable_test_hooks.
    std::string binary = CHANNELD_PATH;
    // Replicas: PostgreSQL (--database_url) instead of SQLite in the data directory, and the
    // files replicas of one database share (--key_file, --callers_file). Empty: the defaults.
    std::string database_url;
    std::string key_file;
    std::string callers_file;
    // The admin caller's token, for a replica whose callers file another replica created (that
    // one's data directory got admin.token, this one's none). Empty: read admin.token.
    std::string admin_token;
  };
  static absl::StatusOr<std::unique_ptr<Channeld>> Start(Options options);
  ~Channeld();

  // Stops with SIGTERM and starts again on the same data directory.
  absl::Status Restart();
  // SIGTERM; returns the exit status as waitpid reports it.
  absl::StatusOr<int> Stop();

  const std::string& grpc_address() const { return grpc_address_; }
  // "127.0.0.1:port" of /metrics and /healthz.
  const std::string& admin_address() const { return admin_address_; }
  // The admin caller's token, from the file the first start wrote.
  const std::string& admin_token() const { return admin_token_; }
  // "127.0.0.1:port" of the webhook endpoint.
  const std::string& webhook_address() const { return webhook_address_; }
  // Calls as the admin caller.
  v1::ChannelService::Stub& stub() { return *stub_; }
  v1::AdminService::Stub& admin_stub() { return *admin_stub_; }
  // Calls with this token, or with none when it is empty.
  std::unique_ptr<v1::ChannelService::Stub> StubWithToken(const std::string& token) const;
  std::unique_ptr<v1::AdminService::Stub> AdminStubWithToken(const std::string& token) const;
  // Adds a caller (channeld add-caller), makes the server re-read its callers, and returns
  // the new caller's token.
  absl::StatusOr<std::string> AddCaller(const std::string& name, const std::string& teams);
  const std::string& data_dir() const { return data_dir_; }
  // The SQLite file in the data directory, for tests that look at the store directly.
  std::string db_path() const { return data_dir_ + "/channeld.db"; }
  pid_t pid() const { return process_ == nullptr ? -1 : process_->pid(); }
  std::string log_path() const { return dir_.File("channeld.log"); }
  std::string ReadLog() const;
  // The log's whole lines once they contain `text`: channeld writes info lines in batches, a
  // few milliseconds after they happen. Waits up to a minute, then returns them as they are.
  std::string ReadLogOnceItHas(absl::string_view text) const;

 private:
  explicit Channeld(Options options);
  absl::Status Launch();

  Options options_;
  TempDir dir_;
  std::string data_dir_;
  std::unique_ptr<ChildProcess> process_;
  std::string grpc_address_;
  std::string webhook_address_;
  std::string admin_address_;
  std::string admin_token_;
  std::unique_ptr<v1::ChannelService::Stub> stub_;
  std::unique_ptr<v1::AdminService::Stub> admin_stub_;
};

// The fake LINE platform and a channeld that uses it, started fresh for each test (the
// processes stop with the fixture). Subclasses add channeld flags with Flags(), and choose
// channeld_test_hooks with Binary().
class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  virtual std::vector<std::string> Flags() { return {}; }
  virtual std::string Binary() { return CHANNELD_PATH; }

  std::unique_ptr<FakeLine> line_;
  std::unique_ptr<Channeld> channeld_;
};

// A gRPC channel of its own (not one shared subchannel, so calls over several of them really
// arrive on several HTTP/2 connections), connected before it is returned: on a loaded machine a
// first connect attempt can fail, and every call would then fail fast until gRPC's reconnect
// backoff ends. Calls still fail if it never connects within 30 s.
std::shared_ptr<grpc::Channel> OwnChannel(const std::string& address);

// "OK", or the code and the ErrorInfo reason, e.g. "ALREADY_EXISTS/OA_BOUND_TO_OTHER_TEAM".
std::string Answer(const grpc::Status& status);

// The integer in environment variable `name` (a test's size), or `fallback` if it is unset,
// not a number, or below `min`.
int EnvInt(const char* name, int fallback, int min = 0);

// A client context with a deadline, so a hung server fails the test instead of hanging it.
std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(30));

// Context() for calls over a channel without the harness's token interceptor (OwnChannel()).
std::unique_ptr<grpc::ClientContext> AuthContext(const std::string& token,
                                                 absl::Duration timeout = absl::Seconds(30));

// The reason in a failed call's google.rpc.ErrorInfo, or "" if none.
std::string Reason(const grpc::Status& status);
// The fields named in a failed call's google.rpc.BadRequest.
std::vector<std::string> ViolatedFields(const grpc::Status& status);

// A bind request for a fixture channel, as `team`.
v1::BindChannelRequest BindRequestFor(const FixtureChannel& channel, const std::string& team);
// Binds `channel` as `team` through `channeld`'s admin caller and returns its webhook URL; a
// failed bind fails the test (check HasFatalFailure()) and returns "".
std::string BindForWebhooks(Channeld& channeld, const FixtureChannel& channel,
                            const std::string& team);

// The team's binding of `channel_id` as GetChannel answers it; a failed call fails the test
// (and returns an empty Channel).
v1::Channel GetChannelOf(v1::ChannelService::Stub& stub, const std::string& team_id,
                         const std::string& channel_id);

// Every webhook event a team's bindings hold (of one channel, if `channel_id` is set), read
// through ListEvents page by page; lifecycle events (Event.lifecycle) too only when
// `with_lifecycle`. A failed call fails the test and ends the list.
std::vector<v1::Event> ListAllEvents(v1::ChannelService::Stub& stub, const std::string& team_id,
                                     const std::string& channel_id = "",
                                     bool with_lifecycle = false);

// LINE's signature of `body` under `secret`, computed here with OpenSSL directly so that the
// tests do not trust the server's own signing code.
std::string TestSignature(const std::string& secret, const std::string& body);

// One LINE text message event as LINE sends it, with `webhook_event_id`.
std::string MessageEventJson(const std::string& webhook_event_id, bool redelivery = false);
// A webhook body for the bot user ID `destination` holding `events` (comma-joined JSON).
std::string WebhookBody(const std::string& destination, const std::string& events);
// POSTs `body` to `url` signed with `secret`, as LINE does: the answer, or the error of a
// request that got none.
absl::StatusOr<HttpResponse> PostSignedWebhook(const std::string& url, const std::string& secret,
                                               const std::string& body,
                                               absl::Duration timeout = absl::Seconds(30));
// The same, reduced to the HTTP status: 0 when no answer came.
int PostSignedWebhookStatus(const std::string& url, const std::string& secret,
                            const std::string& body, absl::Duration timeout = absl::Seconds(30));

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_INTEGRATION_HARNESS_H_
