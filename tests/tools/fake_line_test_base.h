#ifndef LINECHANNEL_TESTS_TOOLS_FAKE_LINE_TEST_BASE_H_
#define LINECHANNEL_TESTS_TOOLS_FAKE_LINE_TEST_BASE_H_

#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/tools/fake_line_process.h"
#include "tests/tools/json_view.h"
#include "tests/tools/test_http_client.h"
#include "tools/fake_line/json_writer.h"

namespace linechannel::testing {

// Starts fake_line with DefaultFixture() for each test and offers shorthands for its APIs.
class FakeLineTest : public ::testing::Test {
 protected:
  void SetUp() override { StartFake({DefaultFixture(), {}}); }

  // (Re)starts the fake with `options`; the previous instance, if any, is stopped first.
  void StartFake(const FakeLineProcess::Options& options) {
    client_.reset();
    fake_.reset();
    absl::StatusOr<std::unique_ptr<FakeLineProcess>> fake = FakeLineProcess::Start(options);
    ASSERT_TRUE(fake.ok()) << fake.status();
    fake_ = *std::move(fake);
    client_ = std::make_unique<TestHttpClient>(fake_->port());
  }

  TestHttpClient& client() { return *client_; }
  FakeLineProcess& fake() { return *fake_; }

  static std::map<std::string, std::string> Bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }

  // `value` as a JSON string literal.
  static std::string Quote(const std::string& value) { return fake_line::JsonQuote(value); }

  HttpReply Token(const std::string& channel_id, const std::string& secret) {
    return client().PostForm("/oauth2/v3/token",
                             absl::StrCat("grant_type=client_credentials&client_id=", channel_id,
                                          "&client_secret=", secret));
  }
  HttpReply BotInfo(const std::string& token) {
    return client().Get("/v2/bot/info", Bearer(token));
  }
  HttpReply SetEndpoint(const std::string& token, const std::string& url) {
    return client().PutJson("/v2/bot/channel/webhook/endpoint",
                            absl::StrCat("{\"endpoint\":", Quote(url), "}"), Bearer(token));
  }
  HttpReply GetEndpoint(const std::string& token) {
    return client().Get("/v2/bot/channel/webhook/endpoint", Bearer(token));
  }
  HttpReply TestWebhook(const std::string& token, const std::string& json = "") {
    return client().PostJson("/v2/bot/channel/webhook/test", json, Bearer(token));
  }
  HttpReply Patch(const std::string& channel_id, const std::string& json) {
    return client().PatchJson("/fake/channels/" + channel_id, json);
  }
  HttpReply SendWebhooks(const std::string& channel_id, const std::string& json) {
    return client().PostJson(absl::StrCat("/fake/channels/", channel_id, "/webhooks"), json);
  }
  JsonView State(const std::string& channel_id) {
    return JsonView(client().Get("/fake/channels/" + channel_id).body);
  }
  void AdvanceClock(int64_t seconds) {
    HttpReply reply =
        client().PostJson("/fake/clock/advance", absl::StrCat("{\"seconds\":", seconds, "}"));
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

 private:
  std::unique_ptr<FakeLineProcess> fake_;
  std::unique_ptr<TestHttpClient> client_;
};

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_TOOLS_FAKE_LINE_TEST_BASE_H_
