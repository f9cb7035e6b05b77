#include "server/binding/line_webhook_settings.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "server/crypto/sealing_contexts.h"
#include "server/base/errors.h"

namespace linechannel::server {
namespace {

using google::protobuf::util::TimeUtil;

constexpr absl::Duration kTestWindow = absl::Hours(1);
constexpr char kWebhookSettings[] =
    "LINE Developers > your channel > Messaging API > Webhook settings";

std::string Time(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  *out = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(t));
}

v1::WebhookCheck* AddCheck(v1::VerifyWebhookResponse& response, v1::CheckKind kind,
                           v1::CheckResult result, std::string summary, std::string evidence = "",
                           std::string next_step = "") {
  v1::WebhookCheck* check = response.add_checks();
  check->set_kind(kind);
  check->set_result(result);
  check->set_summary(std::move(summary));
  check->set_evidence(std::move(evidence));
  check->set_next_step(std::move(next_step));
  return check;
}

bool LineUnreachable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsResourceExhausted(status) ||
         absl::IsDeadlineExceeded(status);
}

// What the checks that need no test call found.
struct LightResult {
  bool line_unavailable = false;
  std::string unavailable_detail;
  bool token_works = false;
};

LightResult RunLightChecks(LineApi& line, const storage::Binding& binding, const Secret& token,
                           const std::string& webhook_url, absl::Time deadline,
                           v1::VerifyWebhookResponse& response) {
  LightResult light;
  absl::StatusOr<LineTokenInfo> info = line.VerifyAccessToken(token, deadline);
  if (!info.ok() && LineUnreachable(info.status())) {
    light.line_unavailable = true;
    light.unavailable_detail = std::string(info.status().message());
    AddCheck(response, v1::ACCESS_TOKEN_VALID, v1::SKIPPED,
             "LINE could not be asked whether the access token works.", light.unavailable_detail,
             "Try again in a few minutes.");
  } else if (!info.ok()) {
    AddCheck(response, v1::ACCESS_TOKEN_VALID, v1::FAIL,
             "LINE rejected the stored access token: it was reissued, has expired or was "
             "revoked.",
             std::string(info.status().message()),
             absl::StrCat("Issue a long-lived channel access token in LINE Developers (Messaging "
                          "API tab) and store it with UpdateCredentials (channelctl "
                          "update-credentials --channel_id=",
                          binding.channel_id, " --token_file=...)."));
  } else if (info->client_id != binding.channel_id) {
    AddCheck(response, v1::ACCESS_TOKEN_VALID, v1::FAIL,
             absl::StrCat("The stored access token belongs to channel ", info->client_id,
                          ", not to this binding's channel."),
             absl::StrCat("client_id=", info->client_id),
             "Store this channel's own access token with UpdateCredentials.");
  } else {
    light.token_works = true;
    AddCheck(response, v1::ACCESS_TOKEN_VALID, v1::PASS, "The access token works.",
             absl::StrCat("LINE's verify: client_id=", info->client_id,
                          ", expires_in=", info->expires_in_seconds, "s"));
  }

  if (!light.token_works) {
    const std::string why =
        light.line_unavailable ? "LINE could not be asked." : "It needs a working access token.";
    AddCheck(response, v1::WEBHOOK_URL_MATCHES, v1::SKIPPED, why);
    AddCheck(response, v1::WEBHOOK_ENABLED, v1::SKIPPED, why);
    return light;
  }

  absl::StatusOr<LineWebhookEndpoint> endpoint = line.GetWebhookEndpoint(token, deadline);
  if (absl::IsNotFound(endpoint.status())) {
    AddCheck(response, v1::WEBHOOK_URL_MATCHES, v1::FAIL,
             "LINE has no webhook URL for this channel.", "",
             absl::StrCat("Paste ", webhook_url, " as the Webhook URL in ", kWebhookSettings,
                          ", or bind again with set_webhook_url."));
    AddCheck(response, v1::WEBHOOK_ENABLED, v1::SKIPPED,
             "LINE reports the switch only once a webhook URL is set.");
  } else if (!endpoint.ok()) {
    light.line_unavailable = LineUnreachable(endpoint.status());
    light.unavailable_detail = std::string(endpoint.status().message());
    AddCheck(response, v1::WEBHOOK_URL_MATCHES, v1::SKIPPED,
             "LINE could not be asked for the channel's webhook URL.",
             std::string(endpoint.status().message()), "Try again in a few minutes.");
    AddCheck(response, v1::WEBHOOK_ENABLED, v1::SKIPPED, "LINE could not be asked.");
  } else {
    if (endpoint->endpoint == webhook_url) {
      AddCheck(response, v1::WEBHOOK_URL_MATCHES, v1::PASS,
               "LINE's webhook URL for this channel is this binding's.", endpoint->endpoint);
    } else {
      AddCheck(
          response, v1::WEBHOOK_URL_MATCHES, v1::FAIL,
          absl::StrCat("LINE's webhook URL for this channel points elsewhere: ",
                       endpoint->endpoint),
          absl::StrCat("LINE has ", endpoint->endpoint, "; this binding's URL is ", webhook_url),
          absl::StrCat("Replace it with ", webhook_url, " in ", kWebhookSettings,
                       ", or bind again with set_webhook_url and overwrite_webhook_url."));
    }
    if (endpoint->active) {
      AddCheck(response, v1::WEBHOOK_ENABLED, v1::PASS, "\"Use webhook\" is on.");
    } else {
      AddCheck(response, v1::WEBHOOK_ENABLED, v1::FAIL,
               "\"Use webhook\" is off, so LINE sends no webhooks at all.", "active=false",
               absl::StrCat("Turn on \"Use webhook\" in ", kWebhookSettings,
                            ", then reload the page to check that it stayed on."));
    }
  }
  return light;
}

// The checks that read LINE's test delivery, and what it says about the stored secret.
void AddTestChecks(const LineWebhookTest& test, const std::string& webhook_url,
                   v1::VerifyWebhookResponse& response) {
  const std::string evidence = absl::StrCat(
      "LINE's test: success=", test.success ? "true" : "false", " statusCode=", test.status_code,
      " reason=", test.reason, test.detail.empty() ? "" : absl::StrCat(" detail=", test.detail),
      test.timestamp.empty() ? "" : absl::StrCat(" at ", test.timestamp));
  if (test.success) {
    AddCheck(response, v1::LINE_TEST_DELIVERED, v1::PASS,
             "LINE's test request reached this binding's URL and got 200.", evidence);
    AddCheck(response, v1::SIGNATURE_VERIFIED, v1::PASS,
             "Our endpoint verified the signature of LINE's test request: the stored channel "
             "secret is the channel's current one.",
             evidence);
    return;
  }
  if (test.reason == "COULD_NOT_CONNECT") {
    AddCheck(response, v1::LINE_TEST_DELIVERED, v1::FAIL,
             absl::StrCat("LINE could not connect to ", webhook_url, "."), evidence,
             "Make sure the URL is reachable from the internet over HTTPS with a certificate "
             "from a public CA (DNS, firewall, proxy, and channeld's --public_base_url).");
  } else if (test.reason == "REQUEST_TIMEOUT") {
    AddCheck(response, v1::LINE_TEST_DELIVERED, v1::FAIL,
             "LINE's test request timed out: our endpoint did not answer in time.", evidence,
             "Check that the proxy in front of channeld forwards to its webhook port and that "
             "channeld answers quickly (see its log).");
  } else if (test.status_code == 401) {
    AddCheck(response, v1::LINE_TEST_DELIVERED, v1::FAIL,
             "LINE's test request reached us but was refused (401): its signature did not "
             "match, see the signature check.",
             evidence);
    AddCheck(response, v1::SIGNATURE_VERIFIED, v1::FAIL,
             "The signature LINE made with the channel's secret does not match the stored "
             "secret: the channel secret was reissued.",
             evidence,
             "Copy the current Channel secret from LINE Developers (Basic settings) and store "
             "it with UpdateCredentials.");
    return;
  } else if (test.status_code == 404) {
    AddCheck(response, v1::LINE_TEST_DELIVERED, v1::FAIL,
             "LINE's test request got 404: the URL it called is not a bound webhook URL here.",
             evidence, "Check --public_base_url and the proxy's path forwarding.");
  } else if (test.status_code >= 500) {
    AddCheck(response, v1::LINE_TEST_DELIVERED, v1::FAIL,
             absl::StrCat("Our endpoint (or a proxy before it) answered LINE's test with ",
                          test.status_code, "."),
             evidence, "Look at channeld's log and the proxy's for the failing request.");
  } else {
    AddCheck(response, v1::LINE_TEST_DELIVERED, v1::FAIL,
             absl::StrCat("LINE's test request failed (", test.reason, ")."), evidence,
             "Check the proxy in front of channeld; LINE does not follow redirects.");
  }
  AddCheck(response, v1::SIGNATURE_VERIFIED, v1::SKIPPED,
           "No test request reached our endpoint, so the secret could not be checked.");
}

void AddRecentTraffic(const storage::WebhookActivity& activity,
                      v1::VerifyWebhookResponse& response) {
  response.clear_last_signed_request_time();
  response.clear_last_bad_signature_time();
  if (activity.last_signed_request) {
    SetTimestamp(*activity.last_signed_request, response.mutable_last_signed_request_time());
  }
  if (activity.last_bad_signature) {
    SetTimestamp(*activity.last_bad_signature, response.mutable_last_bad_signature_time());
  }
  const std::string evidence =
      absl::StrCat("last correctly signed request: ",
                   activity.last_signed_request ? Time(*activity.last_signed_request) : "never",
                   "; last bad signature: ",
                   activity.last_bad_signature ? Time(*activity.last_bad_signature) : "never");
  if (activity.last_bad_signature &&
      (!activity.last_signed_request ||
       *activity.last_bad_signature > *activity.last_signed_request)) {
    AddCheck(response, v1::RECENT_TRAFFIC, v1::WARNING,
             "Requests with a bad signature arrived after the last good one.", evidence,
             "If the channel secret was reissued, store the new one with UpdateCredentials.");
  } else if (!activity.last_signed_request) {
    AddCheck(response, v1::RECENT_TRAFFIC, v1::WARNING,
             "No correctly signed request has arrived yet.", evidence,
             "Press Verify in LINE Developers, or send the OA a message.");
  } else {
    AddCheck(response, v1::RECENT_TRAFFIC, v1::PASS, "Correctly signed requests arrive.", evidence);
  }
}

// The verdict, its summary, and the attention reasons (one per failed check).
std::vector<std::string> Conclude(bool line_unavailable, v1::VerifyWebhookResponse& response) {
  // One reason per failed check that says what to do; the others only explain those.
  std::vector<std::string> reasons;
  std::vector<std::string> explanations;
  for (const v1::WebhookCheck& check : response.checks()) {
    if (check.result() != v1::FAIL) continue;
    if (check.next_step().empty()) {
      explanations.push_back(check.summary());
    } else {
      reasons.push_back(absl::StrCat(check.summary(), " ", check.next_step()));
    }
  }
  if (reasons.empty()) reasons = std::move(explanations);
  if (!reasons.empty()) {
    response.set_verdict(v1::ACTION_NEEDED);
    response.set_summary(
        absl::StrCat(reasons.size() == 1 ? "One thing needs" : "Several things need",
                     " fixing before LINE's messages arrive: ", reasons[0]));
  } else if (line_unavailable) {
    response.set_verdict(v1::LINE_UNAVAILABLE);
    response.set_summary(
        "LINE could not be asked; nothing wrong was found so far. Try again in "
        "a few minutes.");
  } else {
    response.set_verdict(v1::OK);
    const bool tested = std::any_of(
        response.checks().begin(), response.checks().end(), [](const v1::WebhookCheck& c) {
          return c.kind() == v1::LINE_TEST_DELIVERED && c.result() == v1::PASS;
        });
    response.set_summary(tested ? "LINE's webhooks reach this binding and verify."
                                : "Nothing wrong was found, but LINE's test delivery did not "
                                  "run (see that check).");
  }
  return reasons;
}

}  // namespace

LineWebhookSettings::LineWebhookSettings(LineApi* line, storage::BindingStore* bindings,
                                         storage::CheckStore* checks, const SecretSealer* sealer,
                                         const Clock* clock, Options options)
    : line_(line),
      bindings_(bindings),
      checks_(checks),
      sealer_(sealer),
      clock_(clock),
      options_(options) {}

absl::StatusOr<v1::VerifyWebhookResponse> LineWebhookSettings::FromLastRecord(
    const storage::Binding& binding, absl::Time now) {
  absl::StatusOr<storage::CheckRecord> record = checks_->LastCheckRecord(binding.row_id);
  if (!record.ok()) return record.status();
  v1::VerifyWebhookResponse cached;
  if (!cached.ParseFromString(record->result)) {
    return absl::DataLossError("a stored VerifyWebhook result does not parse");
  }
  const absl::Duration age = now - record->checked_at;
  cached.set_from_cache(true);
  *cached.mutable_result_age() = TimeUtil::MicrosecondsToDuration(absl::ToInt64Microseconds(age));
  cached.set_summary(absl::StrCat(
      "LINE's test budget for this channel (", options_.test_calls_per_hour,
      " per hour) is used up, so this is the result of the check ",
      absl::FormatDuration(absl::Trunc(age, absl::Seconds(1))), " ago: ", cached.summary()));
  return cached;
}

absl::StatusOr<v1::VerifyWebhookResponse> LineWebhookSettings::Verify(const storage::Binding& binding,
                                                                const std::string& webhook_url,
                                                                absl::Time deadline) {
  absl::StatusOr<Secret> token =
      sealer_->Unseal(binding.access_token, TokenContext(binding.channel_id));
  if (!token.ok()) return WithReason(token.status());
  const absl::Time now = clock_->Now();

  v1::VerifyWebhookResponse response;
  SetTimestamp(now, response.mutable_checked_time());
  LightResult light = RunLightChecks(*line_, binding, *token, webhook_url, deadline, response);

  bool tested = false;
  if (!light.token_works) {
    const std::string why =
        light.line_unavailable ? "LINE could not be asked." : "It needs a working access token.";
    AddCheck(response, v1::LINE_TEST_DELIVERED, v1::SKIPPED, why);
    AddCheck(response, v1::SIGNATURE_VERIFIED, v1::SKIPPED, why);
  } else {
    absl::StatusOr<bool> allowed = checks_->TakeLineTestCall(binding.channel_id, now, kTestWindow,
                                                             options_.test_calls_per_hour);
    if (!allowed.ok()) return WithReason(allowed.status());
    absl::StatusOr<LineWebhookTest> test =
        *allowed ? line_->TestWebhookEndpoint(*token, webhook_url, deadline)
                 : absl::ResourceExhaustedError("this server's test budget is used up");
    if (absl::IsResourceExhausted(test.status())) {
      // Our budget or LINE's own limit: the last full answer is the best there is.
      absl::StatusOr<v1::VerifyWebhookResponse> cached = FromLastRecord(binding, now);
      if (cached.ok()) {
        absl::StatusOr<storage::Binding> fresh =
            bindings_->FindActive(binding.team_id, binding.channel_id);
        if (fresh.ok()) {
          // The traffic check is ours, not LINE's: it can always be current.
          auto* checks = cached->mutable_checks();
          for (int i = checks->size() - 1; i >= 0; --i) {
            if (checks->Get(i).kind() == v1::RECENT_TRAFFIC) checks->DeleteSubrange(i, 1);
          }
          AddRecentTraffic(fresh->activity, *cached);
        }
        return cached;
      }
      AddCheck(response, v1::LINE_TEST_DELIVERED, v1::SKIPPED,
               absl::StrCat("LINE's test budget for this channel (", options_.test_calls_per_hour,
                            " per hour) is used up and there is no earlier result."),
               std::string(test.status().message()), "Try again within the hour.");
      AddCheck(response, v1::SIGNATURE_VERIFIED, v1::SKIPPED, "No test request was sent.");
    } else if (!test.ok()) {
      light.line_unavailable = true;
      AddCheck(response, v1::LINE_TEST_DELIVERED, v1::SKIPPED,
               "LINE could not be asked to send a test request.",
               std::string(test.status().message()), "Try again in a few minutes.");
      AddCheck(response, v1::SIGNATURE_VERIFIED, v1::SKIPPED, "No test request was sent.");
    } else {
      tested = true;
      AddTestChecks(*test, webhook_url, response);
    }
  }

  // Read after the test, so the test's own request is counted.
  absl::StatusOr<storage::Binding> fresh =
      bindings_->FindActive(binding.team_id, binding.channel_id);
  if (!fresh.ok()) return WithReason(fresh.status());
  AddRecentTraffic(fresh->activity, response);

  const std::vector<std::string> reasons = Conclude(light.line_unavailable, response);
  if (!light.line_unavailable || !reasons.empty()) {
    absl::Status set = bindings_->SetAttention(binding.row_id, reasons, now);
    if (!set.ok()) return WithReason(set);
  }
  if (tested) {
    if (absl::Status saved =
            checks_->SaveCheckRecord(binding.row_id, {now, response.SerializeAsString()});
        !saved.ok()) {
      return WithReason(saved);
    }
  }
  return response;
}

absl::Status LineWebhookSettings::Recheck(const storage::Binding& binding, const std::string& webhook_url,
                                    absl::Time deadline) {
  absl::StatusOr<Secret> token =
      sealer_->Unseal(binding.access_token, TokenContext(binding.channel_id));
  if (!token.ok()) return token.status();
  v1::VerifyWebhookResponse response;
  const LightResult light =
      RunLightChecks(*line_, binding, *token, webhook_url, deadline, response);
  if (light.line_unavailable) return absl::UnavailableError(light.unavailable_detail);
  std::vector<std::string> reasons = Conclude(false, response);
  return bindings_->SetAttention(binding.row_id, reasons, clock_->Now());
}

v1::WebhookSetup LineWebhookSettings::NotRequested(const std::string& webhook_url) {
  v1::WebhookSetup setup;
  setup.set_action(v1::WebhookSetup::NOT_REQUESTED);
  setup.add_remaining_steps(absl::StrCat("Paste ", webhook_url, " as the Webhook URL in ",
                                         kWebhookSettings, " (or bind with set_webhook_url)."));
  setup.add_remaining_steps(absl::StrCat("Turn on \"Use webhook\" in ", kWebhookSettings, "."));
  setup.add_remaining_steps("Run VerifyWebhook to check that LINE's messages arrive.");
  return setup;
}

v1::WebhookSetup LineWebhookSettings::SetUp(const Secret& access_token, const std::string& webhook_url,
                                      bool overwrite, absl::Time deadline) {
  v1::WebhookSetup setup;
  const auto failed = [&](const absl::Status& status) {
    v1::WebhookSetup out = NotRequested(webhook_url);
    out.set_action(v1::WebhookSetup::FAILED);
    out.set_previous_url(setup.previous_url());
    out.set_detail(std::string(status.message()));
    return out;
  };
  absl::StatusOr<LineWebhookEndpoint> current = line_->GetWebhookEndpoint(access_token, deadline);
  if (!current.ok() && !absl::IsNotFound(current.status())) return failed(current.status());
  if (current.ok()) {
    setup.set_previous_url(current->endpoint);
    setup.set_webhook_enabled(current->active);
  }
  const bool foreign =
      current.ok() && !current->endpoint.empty() && current->endpoint != webhook_url;
  if (foreign && !overwrite) {
    setup.set_action(v1::WebhookSetup::LEFT_UNCHANGED);
    setup.add_remaining_steps(absl::StrCat(
        "LINE's webhook URL points to ", current->endpoint, ": replace it with ", webhook_url,
        " in ", kWebhookSettings, ", or bind again with overwrite_webhook_url."));
  } else {
    if (absl::Status set = line_->SetWebhookEndpoint(access_token, webhook_url, deadline);
        !set.ok()) {
      return failed(set);
    }
    setup.set_action(foreign ? v1::WebhookSetup::REPLACED : v1::WebhookSetup::SET);
    // LINE reports "Use webhook" only once a URL is set: read it again.
    if (absl::StatusOr<LineWebhookEndpoint> now = line_->GetWebhookEndpoint(access_token, deadline);
        now.ok()) {
      setup.set_webhook_enabled(now->active);
    }
  }
  if (!setup.webhook_enabled()) {
    setup.add_remaining_steps(absl::StrCat("Turn on \"Use webhook\" in ", kWebhookSettings,
                                           " (LINE's API cannot switch it)."));
  }
  setup.add_remaining_steps(
      "Run VerifyWebhook (LINE may take up to a minute to use a newly set URL).");
  return setup;
}

v1::RetiredUrl LineWebhookSettings::DescribeRetired(const Secret& access_token,
                                              const std::string& retired_url, absl::Time deadline) {
  v1::RetiredUrl retired;
  absl::StatusOr<LineWebhookEndpoint> current = line_->GetWebhookEndpoint(access_token, deadline);
  if (absl::IsNotFound(current.status())) {
    retired.set_state(v1::RetiredUrl::NOT_SET_ON_LINE);
    return retired;
  }
  if (!current.ok()) {
    retired.set_state(v1::RetiredUrl::UNKNOWN);
    retired.set_next_step(absl::StrCat("LINE could not be asked (", current.status().message(),
                                       "). Check the Webhook URL in ", kWebhookSettings,
                                       " and remove ", retired_url, " if it is still there."));
    return retired;
  }
  retired.set_line_webhook_url(current->endpoint);
  if (current->endpoint == retired_url) {
    retired.set_state(v1::RetiredUrl::STILL_SET_ON_LINE);
    retired.set_next_step(absl::StrCat(
        "LINE still sends this channel's webhooks to the retired URL, which now answers 404. "
        "Set the URL of the channel's new binding in ",
        kWebhookSettings, ", or turn off \"Use webhook\"."));
  } else {
    retired.set_state(v1::RetiredUrl::NOT_SET_ON_LINE);
  }
  return retired;
}

}  // namespace linechannel::server
