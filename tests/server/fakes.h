#ifndef LINECHANNEL_TESTS_SERVER_FAKES_H_
#define LINECHANNEL_TESTS_SERVER_FAKES_H_

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/base/clock.h"
#include "server/crypto/random_source.h"
#include "server/line/line_api.h"

namespace linechannel::server {

// A clock the test sets. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time now = absl::FromUnixSeconds(1'800'000'000)) : now_(now) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

// Predictable "random" bytes: a counter, so ids and keys differ but tests can repeat.
class CountingRandom : public RandomSource {
 public:
  std::string Bytes(size_t n) override {
    std::string out(n, '\0');
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>(next_++ * 31 + 7);
    return out;
  }

 private:
  std::atomic<uint32_t> next_{1};
};

// LINE, from a table of channels. Thread-safe.
class FakeLineApi : public LineApi {
 public:
  struct Channel {
    std::string secret;
    std::string token;
    LineBotInfo bot;
    LineWebhookEndpoint webhook;
    // What a test-webhook call reports.
    LineWebhookTest test;
    std::vector<LineRichMenu> rich_menus;
    // Empty: none.
    std::string default_rich_menu_id;
    // Whether LINE accepts an empty URL (removing it); LINE's rules refuse it.
    bool accepts_empty_endpoint = false;
  };

  void AddChannel(const std::string& channel_id, Channel channel) {
    absl::MutexLock lock(&mu_);
    channels_[channel_id] = std::move(channel);
  }
  // Every call fails with `status` (for example UNAVAILABLE) until cleared with OK.
  void FailEveryCall(absl::Status status) {
    absl::MutexLock lock(&mu_);
    failure_ = std::move(status);
  }
  // What a test-webhook call does before it answers, as LINE POSTs its test request to the
  // URL: for example, records what our endpoint would (the channel's secret and the URL are
  // given). Nothing by default.
  void OnTestCall(std::function<void(const std::string& secret, const std::string& url)> deliver) {
    absl::MutexLock lock(&mu_);
    deliver_ = std::move(deliver);
  }
  int calls() const { return calls_.load(); }
  Channel channel(const std::string& channel_id) {
    absl::MutexLock lock(&mu_);
    return channels_[channel_id];
  }

  absl::Status CheckChannelSecret(const std::string& channel_id, const Secret& secret,
                                  absl::Time) override {
    ++calls_;
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    const auto it = channels_.find(channel_id);
    if (it == channels_.end() || it->second.secret != secret.Reveal()) {
      return absl::UnauthenticatedError(
          "LINE issue stateless token answered HTTP 400 (invalid_client)");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<LineTokenInfo> VerifyAccessToken(const Secret& token, absl::Time) override {
    ++calls_;
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    for (const auto& [id, channel] : channels_) {
      if (channel.token == token.Reveal()) return LineTokenInfo{id, 86400, "P"};
    }
    return absl::UnauthenticatedError(
        "LINE verify access token answered HTTP 400 (invalid_request)");
  }

  absl::StatusOr<LineBotInfo> GetBotInfo(const Secret& token, absl::Time) override {
    ++calls_;
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    for (const auto& [id, channel] : channels_) {
      if (channel.token == token.Reveal()) return channel.bot;
    }
    return absl::UnauthenticatedError("LINE get bot info answered HTTP 401");
  }

  absl::StatusOr<LineWebhookEndpoint> GetWebhookEndpoint(const Secret& token, absl::Time) override {
    ++calls_;
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    Channel* channel = ByToken(token);
    if (channel == nullptr) return absl::UnauthenticatedError("HTTP 401");
    if (channel->webhook.endpoint.empty()) return absl::NotFoundError("HTTP 404");
    return channel->webhook;
  }

  absl::Status SetWebhookEndpoint(const Secret& token, const std::string& url,
                                  absl::Time) override {
    ++calls_;
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    Channel* channel = ByToken(token);
    if (channel == nullptr) return absl::UnauthenticatedError("HTTP 401");
    if (url.empty() && !channel->accepts_empty_endpoint) {
      return absl::InvalidArgumentError(
          "LINE set webhook endpoint answered HTTP 400 (Invalid webhook endpoint URL)");
    }
    channel->webhook.endpoint = url;
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<LineRichMenu>> ListRichMenus(const Secret& token,
                                                          absl::Time) override {
    ++calls_;
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    Channel* channel = ByToken(token);
    if (channel == nullptr) return absl::UnauthenticatedError("HTTP 401");
    return channel->rich_menus;
  }

  absl::StatusOr<std::string> GetDefaultRichMenuId(const Secret& token, absl::Time) override {
    ++calls_;
    absl::MutexLock lock(&mu_);
    if (!failure_.ok()) return failure_;
    Channel* channel = ByToken(token);
    if (channel == nullptr) return absl::UnauthenticatedError("HTTP 401");
    if (channel->default_rich_menu_id.empty()) return absl::NotFoundError("HTTP 404");
    return channel->default_rich_menu_id;
  }

  absl::StatusOr<LineWebhookTest> TestWebhookEndpoint(const Secret& token, const std::string& url,
                                                      absl::Time) override {
    ++calls_;
    std::function<void(const std::string&, const std::string&)> deliver;
    LineWebhookTest test;
    std::string secret;
    {
      absl::MutexLock lock(&mu_);
      if (!failure_.ok()) return failure_;
      Channel* channel = ByToken(token);
      if (channel == nullptr) return absl::UnauthenticatedError("HTTP 401");
      deliver = deliver_;
      test = channel->test;
      secret = channel->secret;
    }
    if (deliver) deliver(secret, url);
    return test;
  }

 private:
  Channel* ByToken(const Secret& token) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (auto& [id, channel] : channels_) {
      if (channel.token == token.Reveal()) return &channel;
    }
    return nullptr;
  }

  mutable absl::Mutex mu_;
  std::map<std::string, Channel> channels_ ABSL_GUARDED_BY(mu_);
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  std::function<void(const std::string&, const std::string&)> deliver_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> calls_{0};
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_TESTS_SERVER_FAKES_H_
