#include "server/binding/line_webhook_settings.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/base/errors.h"
#include "server/binding/binding_proof.h"
#include "server/binding/line_console.h"
#include "server/binding/unbind_leftovers.h"
#include "server/binding/webhook_report_codec.h"
#include "server/crypto/sealing_contexts.h"

namespace linechannel::server {
namespace {

constexpr absl::Duration kTestWindow = absl::Hours(1);

std::string Time(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

void AddCheck(WebhookReport& report, CheckKind kind, CheckResult result, std::string summary,
              std::string evidence = "", std::string next_step = "") {
  report.checks.push_back(
      {kind, result, std::move(summary), std::move(evidence), std::move(next_step)});
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
                           WebhookReport& report) {
  LightResult light;
  absl::StatusOr<LineTokenInfo> info = line.VerifyAccessToken(token, deadline);
  if (!info.ok() && LineUnreachable(info.status())) {
    light.line_unavailable = true;
    light.unavailable_detail = std::string(info.status().message());
    AddCheck(report, CheckKind::kAccessTokenValid, CheckResult::kSkipped,
             "LINE could not be asked whether the access token works.", light.unavailable_detail,
             "Try again in a few minutes.");
  } else if (!info.ok()) {
    AddCheck(report, CheckKind::kAccessTokenValid, CheckResult::kFail,
             "LINE rejected the stored access token: it was reissued, has expired or was "
             "revoked.",
             std::string(info.status().message()),
             absl::StrCat("Issue a long-lived channel access token in LINE Developers (Messaging "
                          "API tab) and store it with UpdateCredentials (channelctl "
                          "update-credentials --channel_id=",
                          binding.channel_id, " --token_file=...)."));
  } else if (info->client_id != binding.channel_id) {
    AddCheck(report, CheckKind::kAccessTokenValid, CheckResult::kFail,
             absl::StrCat("The stored access token belongs to channel ", info->client_id,
                          ", not to this binding's channel."),
             absl::StrCat("client_id=", info->client_id),
             "Store this channel's own access token with UpdateCredentials.");
  } else {
    light.token_works = true;
    AddCheck(report, CheckKind::kAccessTokenValid, CheckResult::kPass, "The access token works.",
             absl::StrCat("LINE's verify: client_id=", info->client_id,
                          ", expires_in=", info->expires_in_seconds, "s"));
  }

  if (!light.token_works) {
    const std::string why =
        light.line_unavailable ? "LINE could not be asked." : "It needs a working access token.";
    AddCheck(report, CheckKind::kWebhookUrlMatches, CheckResult::kSkipped, why);
    AddCheck(report, CheckKind::kWebhookEnabled, CheckResult::kSkipped, why);
    return light;
  }

  absl::StatusOr<LineWebhookEndpoint> endpoint = line.GetWebhookEndpoint(token, deadline);
  if (absl::IsNotFound(endpoint.status())) {
    AddCheck(report, CheckKind::kWebhookUrlMatches, CheckResult::kFail,
             "LINE has no webhook URL for this channel.", "",
             absl::StrCat("Paste ", webhook_url, " as the Webhook URL in ", kWebhookSettings,
                          ", or bind again with set_webhook_url."));
    AddCheck(report, CheckKind::kWebhookEnabled, CheckResult::kSkipped,
             "LINE reports the switch only once a webhook URL is set.");
  } else if (!endpoint.ok()) {
    light.line_unavailable = LineUnreachable(endpoint.status());
    light.unavailable_detail = std::string(endpoint.status().message());
    AddCheck(report, CheckKind::kWebhookUrlMatches, CheckResult::kSkipped,
             "LINE could not be asked for the channel's webhook URL.",
             std::string(endpoint.status().message()), "Try again in a few minutes.");
    AddCheck(report, CheckKind::kWebhookEnabled, CheckResult::kSkipped, "LINE could not be asked.");
  } else {
    if (endpoint->endpoint == webhook_url) {
      AddCheck(report, CheckKind::kWebhookUrlMatches, CheckResult::kPass,
               "LINE's webhook URL for this channel is this binding's.", endpoint->endpoint);
    } else {
      AddCheck(
          report, CheckKind::kWebhookUrlMatches, CheckResult::kFail,
          absl::StrCat("LINE's webhook URL for this channel points elsewhere: ",
                       endpoint->endpoint),
          absl::StrCat("LINE has ", endpoint->endpoint, "; this binding's URL is ", webhook_url),
          absl::StrCat("Replace it with ", webhook_url, " in ", kWebhookSettings,
                       ", or bind again with set_webhook_url and overwrite_webhook_url."));
    }
    if (endpoint->active) {
      AddCheck(report, CheckKind::kWebhookEnabled, CheckResult::kPass, "\"Use webhook\" is on.");
    } else {
      AddCheck(report, CheckKind::kWebhookEnabled, CheckResult::kFail,
               "\"Use webhook\" is off, so LINE sends no webhooks at all.", "active=false",
               absl::StrCat("Turn on \"Use webhook\" in ", kWebhookSettings,
                            ", then reload the page to check that it stayed on."));
    }
  }
  return light;
}

std::string ChatModeName(LineChatMode mode) {
  switch (mode) {
    case LineChatMode::kChat:
      return "chat";
    case LineChatMode::kBot:
      return "bot";
    case LineChatMode::kUnknown:
      break;
  }
  return "(not given)";
}

std::string MarkAsReadModeName(LineMarkAsReadMode mode) {
  switch (mode) {
    case LineMarkAsReadMode::kAuto:
      return "auto (LINE shows a customer's messages as read as soon as they arrive)";
    case LineMarkAsReadMode::kManual:
      return "manual (a customer's messages show as read only once marked read, for example "
             "with channelctl mark-read)";
    case LineMarkAsReadMode::kUnknown:
      break;
  }
  return "(not given)";
}

// The response-settings check: what LINE's chat mode means for who answers customers. Asks
// LINE's bot info only when the token works; sets the report's chat modes from it. Returns
// false when LINE could not be reached.
bool AddResponseSettings(LineApi& line, const Secret& token, bool token_works,
                         bool line_unavailable, absl::Time deadline, WebhookReport& report) {
  if (!token_works) {
    AddCheck(report, CheckKind::kResponseSettings, CheckResult::kSkipped,
             line_unavailable ? "LINE could not be asked." : "It needs a working access token.");
    return true;
  }
  absl::StatusOr<LineBotInfo> bot = line.GetBotInfo(token, deadline);
  if (!bot.ok()) {
    AddCheck(report, CheckKind::kResponseSettings, CheckResult::kSkipped,
             "LINE could not be asked whether the OA's own chat is on.",
             std::string(bot.status().message()), "Try again in a few minutes.");
    return !LineUnreachable(bot.status());
  }
  report.chat_mode = bot->chat_mode;
  report.mark_as_read_mode = bot->mark_as_read_mode;
  const std::string evidence =
      absl::StrCat("LINE's bot info: chatMode=", ChatModeName(bot->chat_mode),
                   ", markAsReadMode=", MarkAsReadModeName(bot->mark_as_read_mode));
  const bool webhook_on =
      std::any_of(report.checks.begin(), report.checks.end(), [](const WebhookCheck& c) {
        return c.kind == CheckKind::kWebhookEnabled && c.result == CheckResult::kPass;
      });
  switch (bot->chat_mode) {
    case LineChatMode::kBot:
      AddCheck(report, CheckKind::kResponseSettings, CheckResult::kPass,
               webhook_on ? "Plan A: the OA's own chat is off and the webhook is on, so "
                            "customers are answered only from our product."
                          : "Plan A: the OA's own chat is off, so once the webhook works (see "
                            "the webhook checks) customers are answered only from our product.",
               evidence);
      break;
    case LineChatMode::kChat:
      AddCheck(
          report, CheckKind::kResponseSettings, CheckResult::kWarning,
          webhook_on ? "Plan B: the OA's own chat is on as well as the webhook, so "
                       "customers can be answered both from our product and in LINE "
                       "Official Account Manager."
                     : "Plan B: the OA's own chat is on, so once the webhook works too "
                       "(see the webhook checks) customers can be answered both from our "
                       "product and in LINE Official Account Manager.",
          evidence,
          absl::StrCat("Manual steps (LINE's API cannot read these settings, so they are not "
                       "checked): in ",
                       kResponseSettings,
                       ", turn off the greeting message, auto-response and response hours, or LINE "
                       "answers customers by itself too. For Plan A (answers only from our "
                       "product), turn Chat off there instead."));
      break;
    case LineChatMode::kUnknown:
      AddCheck(report, CheckKind::kResponseSettings, CheckResult::kSkipped,
               "LINE's bot info did not say whether the OA's own chat is on.", evidence,
               absl::StrCat("Look at Chat in ", kResponseSettings,
                            ": off is Plan A (answers only from our product); on is Plan B, "
                            "with the greeting message, auto-response and response hours "
                            "turned off there by hand."));
      break;
  }
  return true;
}

// What our endpoint recorded for the binding while LINE's test call ran: its activity read
// from the store (so whichever replica took the request) just before the call and just after.
// LINE's test body is LINE's own (its destination and no events) and cannot carry a nonce, so
// whatever the endpoint recorded between the two reads is taken as the test's request; a
// customer's message arriving in that moment would count too, and proves as much.
struct TestWitness {
  storage::WebhookActivity before;
  storage::WebhookActivity after;
  absl::Time started;
  absl::Time ended;
};

bool Moved(const std::optional<absl::Time>& before, const std::optional<absl::Time>& after) {
  return after.has_value() && (!before.has_value() || *after > *before);
}

std::string Millis(const std::optional<absl::Time>& t) {
  return t ? absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", *t, absl::UTCTimeZone()) : "never";
}

std::string WitnessEvidence(const TestWitness& witness) {
  return absl::StrCat(
      "channeld's webhook endpoint, read before and after LINE's test call (",
      Millis(witness.started), " to ", Millis(witness.ended), "): last correctly signed request ",
      Millis(witness.before.last_signed_request), " -> ", Millis(witness.after.last_signed_request),
      ", last bad signature ", Millis(witness.before.last_bad_signature), " -> ",
      Millis(witness.after.last_bad_signature));
}

constexpr char kCheckRouting[] =
    "Check that the URL routes to channeld's webhook port: --public_base_url, DNS, and the "
    "proxy or load balancer in front (its target and path forwarding), with no old server "
    "still answering it. Then run VerifyWebhook again.";

// The checks that read LINE's test delivery, and what our endpoint saw of it: the test proves
// the URL and the stored secret only if a correctly signed request reached channeld meanwhile.
void AddTestChecks(const LineWebhookTest& test, const std::string& webhook_url,
                   const TestWitness& witness, WebhookReport& report) {
  const std::string evidence = absl::StrCat(
      "LINE's test: success=", test.success ? "true" : "false", " statusCode=", test.status_code,
      " reason=", test.reason, test.detail.empty() ? "" : absl::StrCat(" detail=", test.detail),
      test.timestamp.empty() ? "" : absl::StrCat(" at ", test.timestamp), "; ",
      WitnessEvidence(witness));
  const bool signed_arrived =
      Moved(witness.before.last_signed_request, witness.after.last_signed_request);
  const bool bad_arrived =
      Moved(witness.before.last_bad_signature, witness.after.last_bad_signature);
  // The endpoint records a bad signature at most once per interval, so the test's own goes
  // unrecorded right after another one: a bad signature that recent stands for it.
  const bool bad_just_before =
      !bad_arrived && witness.after.last_bad_signature.has_value() &&
      *witness.after.last_bad_signature >= witness.started - storage::kTroubleRecordInterval;
  if (test.success) {
    AddCheck(report, CheckKind::kLineTestDelivered, CheckResult::kPass,
             absl::StrCat("LINE's test request to this binding's URL got ", test.status_code, "."),
             evidence);
    if (signed_arrived) {
      AddCheck(report, CheckKind::kSignatureVerified, CheckResult::kPass,
               "A correctly signed request for this binding reached channeld while LINE's test "
               "ran: the URL leads to channeld and the stored channel secret is the one LINE "
               "signs with.",
               evidence);
    } else {
      AddCheck(report, CheckKind::kSignatureVerified, CheckResult::kFail,
               absl::StrCat("LINE reached ", webhook_url, " and got ", test.status_code,
                            ", but no correctly signed request for this binding arrived at "
                            "channeld",
                            bad_arrived ? " (only one with a bad signature)" : "",
                            ": another server or a proxy answered."),
               evidence, kCheckRouting);
    }
    return;
  }
  if (test.reason == "COULD_NOT_CONNECT") {
    AddCheck(report, CheckKind::kLineTestDelivered, CheckResult::kFail,
             absl::StrCat("LINE could not connect to ", webhook_url, "."), evidence,
             "Make sure the URL is reachable from the internet over HTTPS with a certificate "
             "from a public CA (DNS, firewall, proxy, and channeld's --public_base_url).");
  } else if (test.reason == "REQUEST_TIMEOUT") {
    AddCheck(report, CheckKind::kLineTestDelivered, CheckResult::kFail,
             "LINE's test request timed out: our endpoint did not answer in time.", evidence,
             "Check that the proxy in front of channeld forwards to its webhook port and that "
             "channeld answers quickly (see its log).");
  } else if (test.status_code == 401 && (bad_arrived || bad_just_before)) {
    AddCheck(report, CheckKind::kLineTestDelivered, CheckResult::kFail,
             "LINE's test request reached channeld but was refused (401): its signature did not "
             "match, see the signature check.",
             evidence);
    AddCheck(
        report, CheckKind::kSignatureVerified, CheckResult::kFail,
        bad_arrived
            ? "A request for this binding arrived at channeld during LINE's test with a "
              "signature the stored channel secret does not match: the channel secret "
              "LINE signs with differs from the stored one (it was reissued, or another "
              "channel's secret was stored)."
            : absl::StrCat("LINE's test got 401 and channeld refused a request for this binding "
                           "with a bad signature at ",
                           Millis(witness.after.last_bad_signature),
                           ", just before the test (it records them at most once every ",
                           absl::FormatDuration(storage::kTroubleRecordInterval),
                           "): the channel secret LINE signs with most likely differs from the "
                           "stored one (it was reissued, or another channel's secret was stored)."),
        evidence,
        "Copy the current Channel secret from LINE Developers (Basic settings) and store "
        "it with UpdateCredentials.");
    return;
  } else if (test.status_code == 401) {
    AddCheck(report, CheckKind::kLineTestDelivered, CheckResult::kFail,
             absl::StrCat("LINE reached ", webhook_url,
                          " and got 401, but no request for this binding arrived at channeld: "
                          "another server or a proxy answered."),
             evidence, kCheckRouting);
  } else if (test.status_code == 404) {
    AddCheck(report, CheckKind::kLineTestDelivered, CheckResult::kFail,
             "LINE's test request got 404: the URL it called is not a bound webhook URL here.",
             evidence, "Check --public_base_url and the proxy's path forwarding.");
  } else if (test.status_code >= 500) {
    AddCheck(report, CheckKind::kLineTestDelivered, CheckResult::kFail,
             absl::StrCat("Our endpoint (or a proxy before it) answered LINE's test with ",
                          test.status_code, "."),
             evidence, "Look at channeld's log and the proxy's for the failing request.");
  } else {
    AddCheck(report, CheckKind::kLineTestDelivered, CheckResult::kFail,
             absl::StrCat("LINE's test request failed (", test.reason, ")."), evidence,
             "Check the proxy in front of channeld; LINE does not follow redirects.");
  }
  AddCheck(report, CheckKind::kSignatureVerified, CheckResult::kSkipped,
           "No test request reached our endpoint, so the secret could not be checked.");
}

void AddRecentTraffic(const storage::WebhookActivity& activity, WebhookReport& report) {
  report.last_signed_request = activity.last_signed_request;
  report.last_bad_signature = activity.last_bad_signature;
  const std::string evidence =
      absl::StrCat("last correctly signed request: ",
                   activity.last_signed_request ? Time(*activity.last_signed_request) : "never",
                   "; last bad signature: ",
                   activity.last_bad_signature ? Time(*activity.last_bad_signature) : "never");
  if (activity.last_bad_signature &&
      (!activity.last_signed_request ||
       *activity.last_bad_signature > *activity.last_signed_request)) {
    AddCheck(report, CheckKind::kRecentTraffic, CheckResult::kWarning,
             "Requests with a bad signature arrived after the last good one.", evidence,
             "If the channel secret was reissued, store the new one with UpdateCredentials.");
  } else if (!activity.last_signed_request) {
    AddCheck(report, CheckKind::kRecentTraffic, CheckResult::kWarning,
             "No correctly signed request has arrived yet.", evidence,
             "Press Verify in LINE Developers, or send the OA a message.");
  } else {
    AddCheck(report, CheckKind::kRecentTraffic, CheckResult::kPass,
             "Correctly signed requests arrive.", evidence);
  }
}

// The verdict, its summary, and the attention reasons (one per failed check).
std::vector<std::string> Conclude(bool line_unavailable, WebhookReport& report) {
  // One reason per failed check that says what to do; the others only explain those.
  std::vector<std::string> reasons;
  std::vector<std::string> explanations;
  for (const WebhookCheck& check : report.checks) {
    if (check.result != CheckResult::kFail) continue;
    if (check.next_step.empty()) {
      explanations.push_back(check.summary);
    } else {
      reasons.push_back(absl::StrCat(check.summary, " ", check.next_step));
    }
  }
  if (reasons.empty()) reasons = std::move(explanations);
  if (!reasons.empty()) {
    report.verdict = Verdict::kActionNeeded;
    report.summary = absl::StrCat(reasons.size() == 1 ? "One thing needs" : "Several things need",
                                  " fixing before LINE's messages arrive: ", reasons[0]);
  } else if (line_unavailable) {
    report.verdict = Verdict::kLineUnavailable;
    report.summary =
        "LINE could not be asked; nothing wrong was found so far. Try again in "
        "a few minutes.";
  } else {
    report.verdict = Verdict::kOk;
    const bool tested =
        std::any_of(report.checks.begin(), report.checks.end(), [](const WebhookCheck& c) {
          return c.kind == CheckKind::kLineTestDelivered && c.result == CheckResult::kPass;
        });
    report.summary = tested ? "LINE's webhooks reach this binding and verify."
                            : "Nothing wrong was found, but LINE's test delivery did not run "
                              "(see that check).";
  }
  return reasons;
}

}  // namespace

LineWebhookSettings::LineWebhookSettings(LineApi* line, storage::BindingStore* bindings,
                                         storage::CheckStore* checks, storage::EventStore* events,
                                         const SecretSealer* sealer, const Clock* clock,
                                         Options options)
    : line_(line),
      bindings_(bindings),
      checks_(checks),
      events_(events),
      sealer_(sealer),
      clock_(clock),
      options_(options) {}

absl::StatusOr<WebhookReport> LineWebhookSettings::FromLastRecord(const storage::Binding& binding,
                                                                  absl::Time now) {
  absl::StatusOr<storage::CheckRecord> record = checks_->LastCheckRecord(binding.row_id);
  if (!record.ok()) return record.status();
  std::optional<WebhookReport> cached = DecodeWebhookReport(record->result);
  // A record this server cannot read (an older server's) is as good as none.
  if (!cached) return absl::NotFoundError("the stored VerifyWebhook result is not readable");
  const absl::Duration age = now - record->checked_at;
  cached->from_cache = true;
  cached->result_age = age;
  cached->summary = absl::StrCat(
      "LINE's test budget for this channel (", options_.test_calls_per_hour,
      " per hour) is used up, so this is the result of the check ",
      absl::FormatDuration(absl::Trunc(age, absl::Seconds(1))), " ago: ", cached->summary);
  return *std::move(cached);
}

ResponseSettings LineWebhookSettings::LastResponseSettings(const storage::Binding& binding) {
  absl::StatusOr<storage::CheckRecord> record = checks_->LastCheckRecord(binding.row_id);
  if (!record.ok()) return {};
  std::optional<WebhookReport> report = DecodeWebhookReport(record->result);
  if (!report) return {};
  return {report->chat_mode, report->mark_as_read_mode};
}

absl::StatusOr<WebhookReport> LineWebhookSettings::Verify(const storage::Binding& binding,
                                                          const std::string& webhook_url,
                                                          absl::Time deadline) {
  absl::StatusOr<Secret> token =
      sealer_->Unseal(binding.access_token, TokenContext(binding.channel_id));
  if (!token.ok()) return WithReason(token.status());
  const absl::Time now = clock_->Now();

  WebhookReport report;
  report.checked_at = now;
  LightResult light = RunLightChecks(*line_, binding, *token, webhook_url, deadline, report);
  // Only here, not in the periodic re-check: it finds nothing to fix, so it is worth a call
  // to LINE only when someone asks.
  if (!AddResponseSettings(*line_, *token, light.token_works, light.line_unavailable, deadline,
                           report)) {
    light.line_unavailable = true;
  }

  bool tested = false;
  // The activity read just after LINE's test call, when one was made.
  std::optional<storage::WebhookActivity> after_test;
  if (!light.token_works) {
    const std::string why =
        light.line_unavailable ? "LINE could not be asked." : "It needs a working access token.";
    AddCheck(report, CheckKind::kLineTestDelivered, CheckResult::kSkipped, why);
    AddCheck(report, CheckKind::kSignatureVerified, CheckResult::kSkipped, why);
  } else {
    absl::StatusOr<bool> allowed = checks_->TakeLineTestCall(binding.channel_id, now, kTestWindow,
                                                             options_.test_calls_per_hour);
    if (!allowed.ok()) return WithReason(allowed.status());
    TestWitness witness;
    absl::StatusOr<LineWebhookTest> test =
        absl::ResourceExhaustedError("this server's test budget is used up");
    if (*allowed) {
      absl::StatusOr<storage::WebhookActivity> before = events_->ReadActivity(binding.row_id);
      if (!before.ok()) return WithReason(before.status());
      witness.before = *std::move(before);
      witness.started = clock_->Now();
      test = line_->TestWebhookEndpoint(*token, webhook_url, deadline);
      witness.ended = clock_->Now();
      // LINE answers only once our endpoint has (and ours only once the request is stored).
      absl::StatusOr<storage::WebhookActivity> after = events_->ReadActivity(binding.row_id);
      if (!after.ok()) return WithReason(after.status());
      witness.after = *std::move(after);
      after_test = witness.after;
    }
    if (absl::IsResourceExhausted(test.status())) {
      // Our budget or LINE's own limit: the last full answer is the best there is.
      absl::StatusOr<WebhookReport> cached = FromLastRecord(binding, now);
      if (cached.ok()) {
        absl::StatusOr<storage::WebhookActivity> activity = events_->ReadActivity(binding.row_id);
        if (activity.ok()) {
          // The traffic check is ours, not LINE's: it can always be current.
          std::vector<WebhookCheck>& checks = cached->checks;
          checks.erase(std::remove_if(checks.begin(), checks.end(),
                                      [](const WebhookCheck& check) {
                                        return check.kind == CheckKind::kRecentTraffic;
                                      }),
                       checks.end());
          AddRecentTraffic(*activity, *cached);
        }
        // The response settings were just read from LINE (no test call needed): they replace
        // the stored ones, which a record from before this check does not have.
        std::vector<WebhookCheck>& checks = cached->checks;
        checks.erase(std::remove_if(checks.begin(), checks.end(),
                                    [](const WebhookCheck& check) {
                                      return check.kind == CheckKind::kResponseSettings;
                                    }),
                     checks.end());
        for (const WebhookCheck& check : report.checks) {
          if (check.kind != CheckKind::kResponseSettings) continue;
          const auto after_switch = std::find_if(
              checks.begin(), checks.end(),
              [](const WebhookCheck& c) { return c.kind == CheckKind::kWebhookEnabled; });
          checks.insert(after_switch == checks.end() ? checks.end() : after_switch + 1, check);
        }
        cached->chat_mode = report.chat_mode;
        cached->mark_as_read_mode = report.mark_as_read_mode;
        return cached;
      }
      AddCheck(report, CheckKind::kLineTestDelivered, CheckResult::kSkipped,
               absl::StrCat("LINE's test budget for this channel (", options_.test_calls_per_hour,
                            " per hour) is used up and there is no earlier result."),
               std::string(test.status().message()), "Try again within the hour.");
      AddCheck(report, CheckKind::kSignatureVerified, CheckResult::kSkipped,
               "No test request was sent.");
    } else if (!test.ok()) {
      light.line_unavailable = true;
      AddCheck(report, CheckKind::kLineTestDelivered, CheckResult::kSkipped,
               "LINE could not be asked to send a test request.",
               std::string(test.status().message()), "Try again in a few minutes.");
      AddCheck(report, CheckKind::kSignatureVerified, CheckResult::kSkipped,
               "No test request was sent.");
    } else {
      tested = true;
      AddTestChecks(*test, webhook_url, witness, report);
    }
  }

  // Read after the test, so the test's own request is counted; from the store, not a cached
  // binding, so that a request another replica took is counted too.
  absl::StatusOr<storage::WebhookActivity> activity =
      after_test.has_value() ? *after_test : events_->ReadActivity(binding.row_id);
  if (!activity.ok()) return WithReason(activity.status());
  AddRecentTraffic(*activity, report);

  const std::vector<std::string> reasons =
      KeepingProofReason(binding, Conclude(light.line_unavailable, report));
  if (!light.line_unavailable || !reasons.empty()) {
    absl::Status set = bindings_->SetAttention(binding.row_id, reasons, now);
    if (!set.ok()) return WithReason(set);
  }
  if (tested) {
    if (absl::Status saved =
            checks_->SaveCheckRecord(binding.row_id, {now, EncodeWebhookReport(report)});
        !saved.ok()) {
      return WithReason(saved);
    }
  }
  return report;
}

absl::Status LineWebhookSettings::Recheck(const storage::Binding& binding,
                                          const std::string& webhook_url, absl::Time deadline) {
  absl::StatusOr<Secret> token =
      sealer_->Unseal(binding.access_token, TokenContext(binding.channel_id));
  if (!token.ok()) return token.status();
  WebhookReport report;
  const LightResult light = RunLightChecks(*line_, binding, *token, webhook_url, deadline, report);
  if (light.line_unavailable) return absl::UnavailableError(light.unavailable_detail);
  std::vector<std::string> reasons = KeepingProofReason(binding, Conclude(false, report));
  return bindings_->SetAttention(binding.row_id, reasons, clock_->Now());
}

WebhookSetup LineWebhookSettings::NotRequested(const std::string& webhook_url) {
  WebhookSetup setup;
  setup.action = WebhookSetup::Action::kNotRequested;
  setup.remaining_steps.push_back(absl::StrCat("Paste ", webhook_url, " as the Webhook URL in ",
                                               kWebhookSettings,
                                               " (or bind with set_webhook_url)."));
  setup.remaining_steps.push_back(
      absl::StrCat("Turn on \"Use webhook\" in ", kWebhookSettings, "."));
  setup.remaining_steps.push_back("Run VerifyWebhook to check that LINE's messages arrive.");
  return setup;
}

WebhookSetup LineWebhookSettings::SetUp(const Secret& access_token, const std::string& webhook_url,
                                        bool overwrite, absl::Time deadline) {
  WebhookSetup setup;
  const auto failed = [&](const absl::Status& status) {
    WebhookSetup out = NotRequested(webhook_url);
    out.action = WebhookSetup::Action::kFailed;
    out.previous_url = setup.previous_url;
    out.detail = std::string(status.message());
    return out;
  };
  absl::StatusOr<LineWebhookEndpoint> current = line_->GetWebhookEndpoint(access_token, deadline);
  if (!current.ok() && !absl::IsNotFound(current.status())) return failed(current.status());
  if (current.ok()) {
    setup.previous_url = current->endpoint;
    setup.webhook_enabled = current->active;
  }
  const bool foreign =
      current.ok() && !current->endpoint.empty() && current->endpoint != webhook_url;
  if (foreign && !overwrite) {
    setup.action = WebhookSetup::Action::kLeftUnchanged;
    setup.remaining_steps.push_back(absl::StrCat(
        "LINE's webhook URL points to ", current->endpoint, ": replace it with ", webhook_url,
        " in ", kWebhookSettings, ", or bind again with overwrite_webhook_url."));
  } else {
    if (absl::Status set = line_->SetWebhookEndpoint(access_token, webhook_url, deadline);
        !set.ok()) {
      return failed(set);
    }
    setup.action = foreign ? WebhookSetup::Action::kReplaced : WebhookSetup::Action::kSet;
    // LINE reports "Use webhook" only once a URL is set: read it again.
    if (absl::StatusOr<LineWebhookEndpoint> now = line_->GetWebhookEndpoint(access_token, deadline);
        now.ok()) {
      setup.webhook_enabled = now->active;
    }
  }
  if (!setup.webhook_enabled) {
    setup.remaining_steps.push_back(absl::StrCat("Turn on \"Use webhook\" in ", kWebhookSettings,
                                                 " (LINE's API cannot switch it)."));
  }
  setup.remaining_steps.push_back(
      "Run VerifyWebhook (LINE may take up to a minute to use a newly set URL).");
  return setup;
}

UnbindReport LineWebhookSettings::DescribeLeftovers(const Secret& access_token,
                                                    const std::string& retired_url,
                                                    bool clear_webhook_url, absl::Time deadline) {
  return AskLineWhatIsLeft(*line_, access_token, retired_url, clear_webhook_url, deadline);
}

absl::Status LineWebhookSettings::PutBackWebhookUrl(const Secret& access_token,
                                                    const std::string& webhook_url,
                                                    absl::Time deadline) {
  return line_->SetWebhookEndpoint(access_token, webhook_url, deadline);
}

}  // namespace linechannel::server
