#include "server/server_config.h"

#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linechannel::server {
namespace {

using ::testing::HasSubstr;

TEST(ServerConfigTest, TheDefaultsAreValid) {
  EXPECT_TRUE(ValidateServerConfig(ServerConfig{}).ok());
}

struct BadSetting {
  std::string flag;
  std::function<void(ServerConfig&)> spoil;
};

TEST(ServerConfigTest, EachOutOfRangeSettingIsNamedByItsFlag) {
  const std::vector<BadSetting> cases = {
      {"--grpc_max_message_bytes", [](ServerConfig& c) { c.grpc_max_message_bytes = 4095; }},
      {"--grpc_max_message_bytes",
       [](ServerConfig& c) { c.grpc_max_message_bytes = (size_t{64} << 20) + 1; }},
      // A negative flag value arrives as a huge size.
      {"--grpc_max_message_bytes",
       [](ServerConfig& c) { c.grpc_max_message_bytes = static_cast<size_t>(int64_t{-1}); }},
      {"--max_event_streams", [](ServerConfig& c) { c.max_event_streams = 0; }},
      {"--webhook_max_connections", [](ServerConfig& c) { c.webhook_max_connections = 0; }},
      {"--webhook_tls_key_file", [](ServerConfig& c) { c.webhook_tls_cert_file = "cert.pem"; }},
      {"--webhook_tls_cert_file", [](ServerConfig& c) { c.webhook_tls_key_file = "key.pem"; }},
      {"--binding_cache_size", [](ServerConfig& c) { c.binding_cache_size = 10'000'001; }},
      {"--binding_cache_size",
       [](ServerConfig& c) { c.binding_cache_size = static_cast<size_t>(int64_t{-5}); }},
      {"--line_test_calls_per_hour", [](ServerConfig& c) { c.line_test_calls_per_hour = 61; }},
      {"--line_test_calls_per_hour", [](ServerConfig& c) { c.line_test_calls_per_hour = -1; }},
      {"--recheck_interval", [](ServerConfig& c) { c.recheck_interval = absl::Seconds(-1); }},
      {"--recheck_interval", [](ServerConfig& c) { c.recheck_interval = absl::Hours(24 * 7 + 1); }},
      {"--recheck_per_second", [](ServerConfig& c) { c.recheck_per_second = 0; }},
      {"--recheck_unverified_first",
       [](ServerConfig& c) { c.recheck_unverified_first = absl::ZeroDuration(); }},
      {"--recheck_unverified_max",
       [](ServerConfig& c) { c.recheck_unverified_max = absl::Seconds(29); }},
      {"--recheck_unverified_max",
       [](ServerConfig& c) { c.recheck_unverified_max = absl::Hours(25); }},
      {"--recheck_per_second", [](ServerConfig& c) { c.recheck_per_second = 51; }},
      {"--webhook_max_body_bytes", [](ServerConfig& c) { c.webhook_max_body_bytes = 1023; }},
      {"--webhook_max_body_bytes",
       [](ServerConfig& c) { c.webhook_max_body_bytes = (size_t{1} << 30) + 1; }},
      {"--webhook_threads", [](ServerConfig& c) { c.webhook_threads = 0; }},
      {"--event_retention", [](ServerConfig& c) { c.event_retention = absl::Hours(-1); }},
      {"--rpc_workers", [](ServerConfig& c) { c.rpc_workers = 0; }},
      {"--sqlite_page_size", [](ServerConfig& c) { c.sqlite_page_size = 256; }},
      {"--sqlite_page_size", [](ServerConfig& c) { c.sqlite_page_size = 3000; }},
      {"--sqlite_page_size", [](ServerConfig& c) { c.sqlite_page_size = 131072; }},
      {"--sqlite_checkpoint_pages", [](ServerConfig& c) { c.sqlite_checkpoint_pages = -1; }},
      {"--sqlite_commit_linger",
       [](ServerConfig& c) { c.sqlite_commit_linger = absl::Microseconds(-1); }},
      {"--sqlite_commit_linger",
       [](ServerConfig& c) { c.sqlite_commit_linger = absl::Milliseconds(101); }},
      {"--rpc_queue", [](ServerConfig& c) { c.rpc_queue = 0; }},
      {"--grpc_handshake_timeout", [](ServerConfig& c) { c.grpc_handshake_timeout = {}; }},
      {"--grpc_max_connection_idle",
       [](ServerConfig& c) { c.grpc_max_connection_idle = absl::Hours(25); }},
      {"--webhook_*_timeout",
       [](ServerConfig& c) { c.webhook_busy_idle_timeout = absl::Seconds(-1); }},
  };
  for (const BadSetting& bad : cases) {
    ServerConfig config;
    bad.spoil(config);
    const absl::Status status = ValidateServerConfig(config);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad.flag;
    EXPECT_THAT(std::string(status.message()), HasSubstr(bad.flag));
  }
}

TEST(ServerConfigTest, TheEdgesOfEachRangeAreAccepted) {
  ServerConfig config;
  config.grpc_max_message_bytes = 4096;
  config.webhook_max_body_bytes = 1024;
  config.binding_cache_size = 0;
  config.line_test_calls_per_hour = 0;
  config.recheck_per_second = 50;
  config.recheck_interval = absl::ZeroDuration();  // off
  config.recheck_unverified_first = absl::Milliseconds(1);
  config.recheck_unverified_max = absl::Milliseconds(1);
  config.event_retention = absl::ZeroDuration();
  config.sqlite_page_size = 512;
  config.sqlite_checkpoint_pages = 0;
  config.sqlite_commit_linger = absl::ZeroDuration();
  EXPECT_TRUE(ValidateServerConfig(config).ok());
  config.recheck_interval = absl::Hours(24 * 7);
  config.recheck_unverified_max = absl::Hours(24);
  config.grpc_max_message_bytes = size_t{64} << 20;
  config.webhook_max_body_bytes = size_t{1} << 30;
  config.binding_cache_size = 10'000'000;
  config.line_test_calls_per_hour = 60;
  config.sqlite_page_size = 65536;
  config.sqlite_commit_linger = absl::Milliseconds(100);
  config.webhook_tls_cert_file = "cert.pem";
  config.webhook_tls_key_file = "key.pem";
  EXPECT_TRUE(ValidateServerConfig(config).ok());
}

TEST(ServerConfigTest, NothingStaysUncheckedByDefault) {
  const ServerConfig config;
  EXPECT_EQ(config.recheck_interval, absl::Hours(6));
  EXPECT_EQ(config.recheck_per_second, 2);
  EXPECT_EQ(config.recheck_unverified_first, absl::Seconds(30));
  EXPECT_EQ(config.recheck_unverified_max, absl::Minutes(5));
  EXPECT_TRUE(ValidateServerConfig(config).ok());
}

TEST(ServerConfigTest, WebhookConnectionsAreFittedToTheOpenFileLimit) {
  EXPECT_EQ(WebhookConnectionsThatFit(50000, -1), 50000);       // no limit
  EXPECT_EQ(WebhookConnectionsThatFit(50000, 1 << 20), 50000);  // fits
  EXPECT_EQ(WebhookConnectionsThatFit(50000, 20000), 20000 - kReservedDescriptors);
  EXPECT_EQ(WebhookConnectionsThatFit(1024, 1024), 512);  // too few to keep the reserve
  EXPECT_EQ(WebhookConnectionsThatFit(10, 1), 1);
}

}  // namespace
}  // namespace linechannel::server
