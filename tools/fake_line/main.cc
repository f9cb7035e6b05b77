// fake_line: plays the LINE platform for tests and benchmarks. Flags and wiring only; see
// README.md for what it serves.
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "tools/fake_line/audience.h"
#include "tools/fake_line/bot_gate.h"
#include "tools/fake_line/channel_registry.h"
#include "tools/fake_line/clock.h"
#include "tools/fake_line/control_api.h"
#include "tools/fake_line/dispatcher.h"
#include "tools/fake_line/fixture.h"
#include "tools/fake_line/http_client.h"
#include "tools/fake_line/http_server.h"
#include "tools/fake_line/lookup_api.h"
#include "tools/fake_line/management_api.h"
#include "tools/fake_line/media_library.h"
#include "tools/fake_line/messaging_api.h"
#include "tools/fake_line/messaging_stores.h"
#include "tools/fake_line/outbox.h"
#include "tools/fake_line/scripted_faults.h"
#include "tools/fake_line/webhook_sender.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0",
          "host:port to serve on; port 0 picks a free port (printed on stdout)");
ABSL_FLAG(std::string, fixture, "", "JSON file of channels to start with; empty: none");
ABSL_FLAG(absl::Duration, webhook_timeout, absl::Seconds(2),
          "limit for each webhook POST the fake makes (LINE's is 2s)");
ABSL_FLAG(std::string, webhook_ca_file, "",
          "PEM CA file trusted for https webhook URLs; empty: the system's CAs");
ABSL_FLAG(bool, log_requests, false, "log one line per request to stderr");

namespace linechannel::fake_line {
namespace {

int Run() {
  // Handled by sigwait() below; blocked before any thread starts so every thread inherits it.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const std::string listen = absl::GetFlag(FLAGS_listen);
  const size_t colon = listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    std::cerr << "fake_line: --listen must be host:port, got \"" << listen << "\"" << std::endl;
    return 2;
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }

  FakeClock clock;
  ChannelRegistry registry(&clock);
  if (const std::string fixture = absl::GetFlag(FLAGS_fixture); !fixture.empty()) {
    absl::StatusOr<std::vector<Channel>> channels = LoadFixtureFile(fixture);
    absl::Status loaded = channels.ok() ? registry.Upsert(*channels) : channels.status();
    if (!loaded.ok()) {
      std::cerr << "fake_line: " << loaded.message() << std::endl;
      return 2;
    }
    std::cerr << "fake_line: loaded " << channels->size() << " channel(s) from " << fixture
              << std::endl;
  }

  HttpClientOptions client_options;
  client_options.timeout = absl::GetFlag(FLAGS_webhook_timeout);
  client_options.ca_file = absl::GetFlag(FLAGS_webhook_ca_file);
  absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(client_options);
  if (!client.ok()) {
    std::cerr << "fake_line: " << client.status().message() << std::endl;
    return 2;
  }
  WebhookSender sender(client->get());
  absl::Notification stopping;
  Audience audience;
  Outbox outbox(&clock);
  MediaLibrary media;
  FaultScript faults;
  const MessagingStores stores{&audience, &outbox, &media, &faults};
  BotGate gate(&registry, &faults, &stopping);
  ManagementApi management(&registry, &clock, &sender, &gate);
  MessagingApi messaging(&gate, stores);
  LookupApi lookup(&gate, stores, &clock);
  ControlApi control(&registry, &clock, &sender, stores);
  Dispatcher dispatcher(&management, &messaging, &lookup, &control,
                        absl::GetFlag(FLAGS_log_requests));

  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(
      host, port, [&dispatcher](const HttpRequest& request) { return dispatcher.Handle(request); });
  if (!server.ok()) {
    std::cerr << "fake_line: " << server.status().message() << std::endl;
    return 1;
  }
  const std::string shown_host = host.find(':') == std::string::npos ? host : "[" + host + "]";
  // The one line tests wait for; std::endl flushes it.
  std::cout << "fake_line listening on http://" << shown_host << ":" << (*server)->port()
            << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::cerr << "fake_line: signal " << signal_number << ", stopping" << std::endl;
  stopping.Notify();
  if (!(*server)->Shutdown(absl::Seconds(3))) {
    // A handler is still inside a webhook POST; its objects live on this stack, so leave
    // without unwinding it.
    std::cerr << "fake_line: requests still running, exiting anyway" << std::endl;
    std::_Exit(0);
  }
  return 0;
}

}  // namespace
}  // namespace linechannel::fake_line

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "fake_line --listen=127.0.0.1:0 --fixture=channels.json [--webhook_timeout=2s] "
      "[--webhook_ca_file=ca.pem]: a fake LINE platform for tests");
  absl::ParseCommandLine(argc, argv);
  return linechannel::fake_line::Run();
}
