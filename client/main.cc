// channelctl: the operators' command line for the LINE channel-binding service.

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/audit_command.h"
#include "client/channel_client.h"
#include "client/command_line.h"
#include "client/credential_input.h"
#include "client/outbound_commands.h"
#include "client/output.h"

ABSL_FLAG(std::string, server, "",
          "channeld's gRPC address (default $CHANNELCTL_SERVER or 127.0.0.1:50051).");
ABSL_FLAG(bool, json, false, "Print results and errors as JSON.");
ABSL_FLAG(std::string, caller_token_file, "",
          "File holding this caller's token (default $CHANNELCTL_CALLER_TOKEN_FILE, else "
          "./data/admin.token when it exists: the embedded default's admin token).");
ABSL_FLAG(std::string, tls_ca_file, "",
          "Use TLS, trusting the server certificate signed by this CA (PEM).");
ABSL_FLAG(std::string, tls_cert_file, "", "Client certificate (PEM), for servers that ask.");
ABSL_FLAG(std::string, tls_key_file, "", "Client certificate's key (PEM).");
ABSL_FLAG(std::string, key_id, "", "retire-key: the sealing key to retire.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(30), "Give up on the server after this long.");
ABSL_FLAG(std::string, team, "", "The team id.");
ABSL_FLAG(std::string, channel_id, "", "The LINE channel ID.");
ABSL_FLAG(std::string, app_name, "", "bind: the app's name in LINE Developers.");
ABSL_FLAG(std::string, line_id, "",
          "bind: the OA's LINE ID (basic ID like @123abcde, or premium ID).");
ABSL_FLAG(bool, set_webhook_url, false,
          "bind: also set the webhook URL on LINE (unless LINE has another one).");
ABSL_FLAG(bool, overwrite_webhook_url, false,
          "bind: with --set_webhook_url, replace a URL on LINE that points elsewhere.");
ABSL_FLAG(bool, clear_webhook_url, false,
          "unbind: also remove the binding's URL from LINE, only if LINE still has exactly it.");
ABSL_FLAG(std::string, state, "",
          "list: only bindings in this state (ACTIVE, NEEDS_ATTENTION, UNBOUND).");
ABSL_FLAG(std::string, secret_file, "",
          "bind/update-credentials: file holding the channel secret, or - for standard input.");
ABSL_FLAG(std::string, token_file, "",
          "bind/update-credentials: file holding the access token, or - for standard input.");
ABSL_FLAG(bool, include_unbound, false, "list: also show unbound bindings.");
ABSL_FLAG(int, page_size, 0, "list/audit/events: bindings or entries per page (default 100).");
ABSL_FLAG(std::string, page_token, "", "list/audit: continue from this page token.");
ABSL_FLAG(int64_t, after, 0, "events: start after this cursor (0: from the oldest kept).");
ABSL_FLAG(bool, follow, false,
          "events: keep printing new events as they arrive (reconnects if the server restarts).");

namespace {

namespace v1 = linechannel::v1;
using linechannel::client::ChannelClient;
using ChannelStub = v1::ChannelService::Stub;
using AdminStub = v1::AdminService::Stub;

using linechannel::client::kExitOk;

constexpr char kUsage[] = R"(channelctl: bind and inspect LINE Official Accounts in channeld.
Agents also answer customers through them: replies, pushes, profiles, content.

usage: channelctl [--server=HOST:PORT] [--json] COMMAND [flags]

commands:
  bind                --team --channel_id --app_name --line_id --secret_file --token_file
                      [--set_webhook_url [--overwrite_webhook_url]]
                      Prove the five values with LINE and bind the OA to the team.
  unbind              --team --channel_id [--clear_webhook_url]
                      End the binding; prints what is left on LINE to clean up (rich menus,
                      the default rich menu, the webhook URL). --clear_webhook_url also
                      removes the URL from LINE if it is still this binding's.
  get                 --team --channel_id
  list                --team [--include_unbound] [--state=NEEDS_ATTENTION] [--page_size]
                      [--page_token]
  webhook-url         --team --channel_id
                      The URL to paste into LINE Developers (Messaging API > Webhook URL).
  update-credentials  --team --channel_id [--secret_file] [--token_file]
  verify              --team --channel_id
                      Check that LINE's webhooks reach the binding; says what to fix.
  events              --team [--channel_id] [--after=CURSOR] [--follow]
                      Webhook events and the channels' lifecycle events
                      (lifecycle.bound, .state_changed, ...), oldest first;
                      --follow keeps printing new ones.
  audit               --team [--channel_id] [--page_size] [--page_token] [--all]
                      Who bound, unbound or updated the credentials, and when, newest
                      first; unbound bindings included; --all reads every page.

answering customers (each also takes --team --channel_id):
  reply               --reply_token (--text=... [--text=...] | --message_file=F.json)
                      [--notification_disabled]
                      Answer an event once with its replyToken; never retried.
  push                --to=U... (--text=... | --message_file=F.json) [--request_id=R]
                      [--notification_disabled]
                      Send exactly once per request id (a new UUID, printed, if none is given);
                      repeating it sends nothing new and says where the push stands.
  push-status         --request_id=R   where a push stands (PENDING, SENT, FAILED)
  profile             --user_id=U... [--group_id=C... | --room_id=R...]
  content             --message_id=N --out=FILE|-
                      Download an image, video, audio or file a customer sent (streamed to
                      FILE.part, renamed to FILE when complete; --content_timeout, default
                      10m, bounds the whole download).
  quota               this month's message quota and usage
  mark-read           --mark_as_read_token=T
  loading             --chat_id=U... [--seconds=5..60]   show the typing animation

admin commands (admin callers only):
  keys                the sealing keys and how many stored values each seals
  rotate-key          add a new sealing key, make it current, re-seal everything under it
  retire-key          --key_id: remove a key nothing uses any more
  reload-callers      re-read the server's callers file

Secrets and tokens are read from files or standard input (-), never from the command line:
  channelctl bind --team=t1 --channel_id=1656000001 --app_name="Shop A" --line_id=@123abcde \
      --secret_file=secret.txt --token_file=token.txt
  printf '%s\n%s\n' "$SECRET" "$TOKEN" | channelctl bind ... --secret_file=- --token_file=-

A message file holds one LINE message object or a JSON array of them, for example
  [{"type":"text","text":"Thanks!"},{"type":"sticker","packageId":"446","stickerId":"1988"}]

The caller token comes from --caller_token_file (or $CHANNELCTL_CALLER_TOKEN_FILE, or
./data/admin.token).

Exit status: 0 success, 1 the server refused or failed (or a download could not be
written), 2 bad usage; verify also 3 when its verdict is ACTION_NEEDED and 4 when it is
LINE_UNAVAILABLE (try again later).)";

int Usage(const std::string& problem) { return linechannel::client::UsageError(problem); }

int PrintError(const absl::Status& status) {
  return linechannel::client::PrintServerError(status, absl::GetFlag(FLAGS_json));
}

// Prints a result or the server's error; returns the exit status.
template <typename Response, typename Print>
int Report(const absl::StatusOr<Response>& result, Print print) {
  return linechannel::client::ReportResult(result, absl::GetFlag(FLAGS_json), print);
}

// The flags a command needs that are empty, as "--a, --b".
std::string Missing(const std::map<std::string, std::string>& required) {
  return linechannel::client::MissingFlags({required.begin(), required.end()});
}

template <typename Request>
Request BindingRef() {
  Request request;
  request.set_team_id(absl::GetFlag(FLAGS_team));
  request.set_channel_id(absl::GetFlag(FLAGS_channel_id));
  return request;
}

// The binding's reference with the secret and token read from their files (or stdin).
template <typename Request>
absl::StatusOr<Request> BindingWithCredentials(const std::string& secret_file,
                                               const std::string& token_file) {
  absl::StatusOr<linechannel::client::Credentials> credentials =
      linechannel::client::ReadCredentials(secret_file, token_file, std::cin);
  if (!credentials.ok()) return credentials.status();
  Request request = BindingRef<Request>();
  request.set_channel_secret(credentials->channel_secret);
  request.set_channel_access_token(credentials->access_token);
  return request;
}

int Bind(ChannelClient& client) {
  const std::string secret_file = absl::GetFlag(FLAGS_secret_file);
  const std::string token_file = absl::GetFlag(FLAGS_token_file);
  const std::string missing = Missing({{"team", absl::GetFlag(FLAGS_team)},
                                       {"channel_id", absl::GetFlag(FLAGS_channel_id)},
                                       {"app_name", absl::GetFlag(FLAGS_app_name)},
                                       {"line_id", absl::GetFlag(FLAGS_line_id)},
                                       {"secret_file", secret_file},
                                       {"token_file", token_file}});
  if (!missing.empty()) return Usage("bind needs " + missing);
  absl::StatusOr<v1::BindChannelRequest> request =
      BindingWithCredentials<v1::BindChannelRequest>(secret_file, token_file);
  if (!request.ok()) return Usage(std::string(request.status().message()));
  request->set_app_name(absl::GetFlag(FLAGS_app_name));
  request->set_line_id(absl::GetFlag(FLAGS_line_id));
  request->set_set_webhook_url(absl::GetFlag(FLAGS_set_webhook_url));
  request->set_overwrite_webhook_url(absl::GetFlag(FLAGS_overwrite_webhook_url));
  return Report(
      client.Call(&ChannelStub::BindChannel, *request),
      [](const v1::BindChannelResponse& response) {
        std::cout << (response.already_bound() ? "already bound (nothing changed)\n" : "bound\n")
                  << linechannel::client::FormatChannel(response.channel()) << "\n"
                  << linechannel::client::FormatWebhookSetup(response.webhook_setup());
      });
}

int UpdateCredentials(ChannelClient& client) {
  const std::string secret_file = absl::GetFlag(FLAGS_secret_file);
  const std::string token_file = absl::GetFlag(FLAGS_token_file);
  const std::string missing = Missing(
      {{"team", absl::GetFlag(FLAGS_team)}, {"channel_id", absl::GetFlag(FLAGS_channel_id)}});
  if (!missing.empty()) return Usage("update-credentials needs " + missing);
  if (secret_file.empty() && token_file.empty()) {
    return Usage("update-credentials needs --secret_file, --token_file or both");
  }
  absl::StatusOr<v1::UpdateCredentialsRequest> request =
      BindingWithCredentials<v1::UpdateCredentialsRequest>(secret_file, token_file);
  if (!request.ok()) return Usage(std::string(request.status().message()));
  return Report(client.Call(&ChannelStub::UpdateCredentials, *request),
                [](const v1::UpdateCredentialsResponse& response) {
                  std::cout << "credentials updated\n"
                            << linechannel::client::FormatChannel(response.channel());
                });
}

// For the commands that name one binding.
void PrintEvent(const v1::Event& event) {
  std::cout << (absl::GetFlag(FLAGS_json) ? linechannel::client::FormatJsonLine(event)
                                          : linechannel::client::FormatEventLine(event))
            << std::flush;
}

int Events(ChannelClient& client) {
  if (absl::GetFlag(FLAGS_team).empty()) return Usage("events needs --team");
  int64_t cursor = absl::GetFlag(FLAGS_after);
  if (!absl::GetFlag(FLAGS_follow)) {
    v1::ListEventsRequest request;
    request.set_team_id(absl::GetFlag(FLAGS_team));
    request.set_channel_id(absl::GetFlag(FLAGS_channel_id));
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    while (true) {
      request.set_after_cursor(cursor);
      absl::StatusOr<v1::ListEventsResponse> page = client.Call(&ChannelStub::ListEvents, request);
      if (!page.ok()) return PrintError(page.status());
      if (page->events().empty()) return kExitOk;
      for (const v1::Event& event : page->events()) PrintEvent(event);
      cursor = page->next_cursor();
    }
  }
  // Follow: stream, and after a broken stream (a server restart, say) resume from the last
  // cursor printed, so nothing is missed or printed twice.
  absl::Duration backoff = absl::Seconds(1);
  while (true) {
    v1::StreamEventsRequest request;
    request.set_team_id(absl::GetFlag(FLAGS_team));
    request.set_channel_id(absl::GetFlag(FLAGS_channel_id));
    request.set_after_cursor(cursor);
    const absl::Status ended = client.StreamEvents(request, [&](const v1::Event& event) {
      PrintEvent(event);
      cursor = event.cursor();
      backoff = absl::Seconds(1);
      return true;
    });
    if (!absl::IsUnavailable(ended) && !ended.ok()) return PrintError(ended);
    std::cerr << "channelctl: stream ended (" << (ended.ok() ? "closed" : ended.message())
              << "); resuming after cursor " << cursor << "\n";
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(10));
  }
}

void PrintKeys(const google::protobuf::RepeatedPtrField<v1::SealingKey>& keys) {
  for (const v1::SealingKey& key : keys) {
    std::cout << key.key_id() << (key.current() ? " (current)" : "") << ": " << key.sealed_values()
              << " sealed values\n";
  }
}

int Admin(const std::string& command, ChannelClient& client) {
  if (command == "keys") {
    return Report(client.Call(&AdminStub::ListSealingKeys, v1::ListSealingKeysRequest()),
                  [](const v1::ListSealingKeysResponse& r) { PrintKeys(r.keys()); });
  }
  if (command == "rotate-key") {
    return Report(client.Call(&AdminStub::RotateSealingKey, v1::RotateSealingKeyRequest()),
                  [](const v1::RotateSealingKeyResponse& r) {
                    std::cout << "new current key " << r.new_key_id() << "; re-sealed "
                              << r.resealed_values() << " values\n";
                    PrintKeys(r.keys());
                  });
  }
  if (command == "retire-key") {
    if (absl::GetFlag(FLAGS_key_id).empty()) return Usage("retire-key needs --key_id");
    v1::RetireSealingKeyRequest request;
    request.set_key_id(absl::GetFlag(FLAGS_key_id));
    return Report(client.Call(&AdminStub::RetireSealingKey, request),
                  [](const v1::RetireSealingKeyResponse& r) { PrintKeys(r.keys()); });
  }
  return Report(client.Call(&AdminStub::ReloadCallers, v1::ReloadCallersRequest()),
                [](const v1::ReloadCallersResponse& r) {
                  std::cout << "the server now knows " << r.callers() << " callers\n";
                });
}

int Run(const std::string& command, ChannelClient& client, const std::vector<std::string>& texts) {
  if (command == "events") return Events(client);
  if (command == "audit") {
    return linechannel::client::RunAuditCommand(
        {&client, absl::GetFlag(FLAGS_json), absl::GetFlag(FLAGS_team),
         absl::GetFlag(FLAGS_channel_id), absl::GetFlag(FLAGS_page_size),
         absl::GetFlag(FLAGS_page_token)});
  }
  if (command == "keys" || command == "rotate-key" || command == "retire-key" ||
      command == "reload-callers") {
    return Admin(command, client);
  }
  if (linechannel::client::IsOutboundCommand(command)) {
    return linechannel::client::RunOutboundCommand(
        command, {&client, absl::GetFlag(FLAGS_json), absl::GetFlag(FLAGS_team),
                  absl::GetFlag(FLAGS_channel_id), texts});
  }
  if (command == "bind") return Bind(client);
  if (command == "update-credentials") return UpdateCredentials(client);
  if (command == "list") {
    if (absl::GetFlag(FLAGS_team).empty()) return Usage("list needs --team");
    v1::ListChannelsRequest request;
    request.set_team_id(absl::GetFlag(FLAGS_team));
    request.set_include_unbound(absl::GetFlag(FLAGS_include_unbound));
    request.set_page_size(absl::GetFlag(FLAGS_page_size));
    request.set_page_token(absl::GetFlag(FLAGS_page_token));
    if (!absl::GetFlag(FLAGS_state).empty()) {
      v1::BindingState state;
      if (!v1::BindingState_Parse(absl::GetFlag(FLAGS_state), &state)) {
        return Usage("--state must be ACTIVE, NEEDS_ATTENTION or UNBOUND");
      }
      request.set_state(state);
    }
    return Report(client.Call(&ChannelStub::ListChannels, request),
                  [](const v1::ListChannelsResponse& response) {
                    std::cout << linechannel::client::FormatChannelTable(response);
                    if (!response.next_page_token().empty()) {
                      std::cout << "more: --page_token=" << response.next_page_token() << "\n";
                    }
                  });
  }

  const std::string missing = Missing(
      {{"team", absl::GetFlag(FLAGS_team)}, {"channel_id", absl::GetFlag(FLAGS_channel_id)}});
  if (command == "unbind") {
    if (!missing.empty()) return Usage("unbind needs " + missing);
    v1::UnbindChannelRequest request = BindingRef<v1::UnbindChannelRequest>();
    request.set_clear_webhook_url(absl::GetFlag(FLAGS_clear_webhook_url));
    return Report(client.Call(&ChannelStub::UnbindChannel, request),
                  [](const v1::UnbindChannelResponse& response) {
                    std::cout << "unbound: the webhook URL no longer works and the OA is free\n"
                              << linechannel::client::FormatChannel(response.channel())
                              << linechannel::client::FormatUnbindLeftovers(response);
                  });
  }
  if (command == "get") {
    if (!missing.empty()) return Usage("get needs " + missing);
    return Report(client.Call(&ChannelStub::GetChannel, BindingRef<v1::GetChannelRequest>()),
                  [](const v1::Channel& channel) {
                    std::cout << linechannel::client::FormatChannel(channel);
                  });
  }
  if (command == "webhook-url") {
    if (!missing.empty()) return Usage("webhook-url needs " + missing);
    return Report(client.Call(&ChannelStub::GetWebhookUrl, BindingRef<v1::GetWebhookUrlRequest>()),
                  [](const v1::GetWebhookUrlResponse& response) {
                    std::cout << response.webhook_url() << "\n";
                  });
  }
  if (command == "verify") {
    if (!missing.empty()) return Usage("verify needs " + missing);
    const absl::StatusOr<v1::VerifyWebhookResponse> verified =
        client.Call(&ChannelStub::VerifyWebhook, BindingRef<v1::VerifyWebhookRequest>());
    const int printed = Report(verified, [](const v1::VerifyWebhookResponse& response) {
      std::cout << linechannel::client::FormatVerification(response);
    });
    return printed != 0 ? printed : linechannel::client::VerdictExitStatus(verified->verdict());
  }
  return Usage("unknown command \"" + command + "\"");
}

// The caller token: --caller_token_file, $CHANNELCTL_CALLER_TOKEN_FILE, or the embedded default's
// admin token; "" (calls will be refused as UNAUTHENTICATED) when there is none.
absl::StatusOr<std::string> ReadToken() {
  std::string path = absl::GetFlag(FLAGS_caller_token_file);
  if (path.empty()) {
    const char* from_env = std::getenv("CHANNELCTL_CALLER_TOKEN_FILE");
    path = from_env != nullptr ? from_env : "";
  }
  if (path.empty()) {
    if (!std::ifstream("./data/admin.token")) return std::string();
    path = "./data/admin.token";
  }
  std::ifstream file(path);
  if (!file) return absl::InvalidArgumentError("cannot read the token file " + path);
  std::string token;
  std::getline(file, token);
  token = std::string(absl::StripAsciiWhitespace(token));
  if (token.empty()) return absl::InvalidArgumentError("the token file " + path + " is empty");
  return token;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsage);
  // --text repeats; the flag library would keep only its last value.
  std::vector<char*> args(argv, argv + argc);
  absl::StatusOr<std::vector<std::string>> texts =
      linechannel::client::TakeRepeatedFlag("text", args);
  if (!texts.ok()) return Usage(std::string(texts.status().message()));
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  if (positional.size() != 2) {
    return Usage(positional.size() < 2 ? "give a command" : "give exactly one command");
  }
  ChannelClient::Options options;
  options.timeout = absl::GetFlag(FLAGS_timeout);
  options.target = absl::GetFlag(FLAGS_server);
  if (options.target.empty()) {
    const char* from_env = std::getenv("CHANNELCTL_SERVER");
    options.target = from_env != nullptr ? from_env : "127.0.0.1:50051";
  }
  absl::StatusOr<std::string> token = ReadToken();
  if (!token.ok()) return Usage(std::string(token.status().message()));
  options.token = *token;
  for (const auto& [flag, out] :
       {std::pair{absl::GetFlag(FLAGS_tls_ca_file), &options.tls_ca_pem},
        std::pair{absl::GetFlag(FLAGS_tls_cert_file), &options.tls_cert_pem},
        std::pair{absl::GetFlag(FLAGS_tls_key_file), &options.tls_key_pem}}) {
    if (flag.empty()) continue;
    std::ifstream file(flag);
    if (!file) return Usage("cannot read " + flag);
    std::ostringstream text;
    text << file.rdbuf();
    *out = text.str();
  }
  ChannelClient client(options);
  return Run(positional[1], client, *texts);
}
