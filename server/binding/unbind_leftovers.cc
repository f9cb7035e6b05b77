#include "server/binding/unbind_leftovers.h"

#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "server/binding/line_console.h"

namespace linechannel::server {
namespace {

constexpr char kRichMenuApi[] = "https://api.line.me/v2/bot/richmenu";
constexpr char kDefaultRichMenuApi[] = "https://api.line.me/v2/bot/user/all/richmenu";

std::string CouldNotAsk(absl::string_view reason) {
  return absl::StrCat("could not ask LINE: ", reason);
}

// LINE's webhook URL: nullopt when none is set, an error when LINE could not say.
absl::StatusOr<std::optional<LineWebhookEndpoint>> ReadEndpoint(LineApi& line, const Secret& token,
                                                                absl::Time deadline) {
  absl::StatusOr<LineWebhookEndpoint> current = line.GetWebhookEndpoint(token, deadline);
  if (absl::IsNotFound(current.status())) return std::nullopt;
  if (!current.ok()) return current.status();
  if (current->endpoint.empty()) return std::nullopt;
  return std::optional<LineWebhookEndpoint>(*std::move(current));
}

RetiredUrl UnknownRetired(const std::string& retired_url, absl::string_view reason) {
  RetiredUrl retired;
  retired.state = RetiredUrl::State::kUnknown;
  retired.next_step =
      absl::StrCat("LINE could not be asked (", reason, "). Check the Webhook URL in ",
                   kWebhookSettings, " and remove ", retired_url, " if it is still there.");
  return retired;
}

RetiredUrl DescribeRetired(const std::optional<LineWebhookEndpoint>& current,
                           const std::string& retired_url) {
  RetiredUrl retired;
  retired.state = RetiredUrl::State::kNotSetOnLine;
  if (!current) return retired;
  retired.line_webhook_url = current->endpoint;
  if (current->endpoint == retired_url) {
    retired.state = RetiredUrl::State::kStillSetOnLine;
    retired.next_step = absl::StrCat(
        "LINE still sends this channel's webhooks to the retired URL, which now answers 404. "
        "Set the URL of the channel's new binding in ",
        kWebhookSettings, ", or turn off \"Use webhook\".");
  }
  return retired;
}

// Removes `retired_url` from LINE if it is LINE's URL (`current`), and reads LINE's URL again
// into `current`.
WebhookUrlClear Clear(LineApi& line, const Secret& token, const std::string& retired_url,
                      absl::Time deadline, std::optional<LineWebhookEndpoint>& current) {
  if (!current) {
    return {WebhookUrlClear::Outcome::kLeftAlone,
            "LINE has no webhook URL for this channel: there is nothing to remove."};
  }
  if (current->endpoint != retired_url) {
    return {WebhookUrlClear::Outcome::kLeftAlone,
            absl::StrCat("LINE's webhook URL is ", current->endpoint,
                         ", not this binding's, so it was left alone.")};
  }
  // LINE's API has no call that removes a URL; an empty one is the only way to ask, and LINE's
  // rules (a valid HTTPS URL) may refuse it. A refusal changes nothing.
  if (absl::Status set = line.SetWebhookEndpoint(token, "", deadline); !set.ok()) {
    return {WebhookUrlClear::Outcome::kFailed,
            absl::StrCat("LINE did not remove the URL (", set.message(),
                         "). LINE's API accepts only a valid HTTPS URL there, so remove it by hand "
                         "in ",
                         kWebhookSettings, ", or put your new service's URL in its place.")};
  }
  absl::StatusOr<std::optional<LineWebhookEndpoint>> after = ReadEndpoint(line, token, deadline);
  if (!after.ok()) {
    return {WebhookUrlClear::Outcome::kFailed,
            absl::StrCat("LINE accepted the removal, but could not be asked whether it took (",
                         after.status().message(), "). Check the Webhook URL in ", kWebhookSettings,
                         ".")};
  }
  current = *std::move(after);
  if (current) {
    return {WebhookUrlClear::Outcome::kFailed,
            absl::StrCat("LINE accepted the removal but still reports ", current->endpoint,
                         " as the webhook URL. Remove it in ", kWebhookSettings, ".")};
  }
  return {WebhookUrlClear::Outcome::kCleared,
          "The binding's URL is removed from LINE's webhook settings (LINE may take up to a "
          "minute to stop using it)."};
}

std::string Plural(int count, absl::string_view one, absl::string_view many) {
  return absl::StrCat(count, " ", count == 1 ? one : many);
}

// The steps about the webhook settings, from what LINE said about the retired URL.
void AddWebhookSteps(const RetiredUrl& retired, const std::string& retired_url,
                     std::vector<std::string>& steps) {
  switch (retired.state) {
    case RetiredUrl::State::kStillSetOnLine:
      steps.push_back(absl::StrCat(
          "LINE still sends this channel's webhooks to the retired URL ", retired_url,
          ", which now answers 404: in ", kWebhookSettings,
          ", replace it with your new service's URL, or turn off \"Use webhook\" if nothing "
          "should receive LINE's webhooks (or unbind with clear_webhook_url)."));
      break;
    case RetiredUrl::State::kUnknown:
      steps.push_back(absl::StrCat("Check the Webhook URL in ", kWebhookSettings,
                                   ": if it is still ", retired_url,
                                   ", replace it with your new service's URL, or turn off "
                                   "\"Use webhook\" if nothing should receive LINE's webhooks."));
      break;
    case RetiredUrl::State::kNotSetOnLine:
      break;
  }
}

void AddRichMenuSteps(const LineLeftovers& leftovers, std::vector<std::string>& steps) {
  if (!leftovers.line_asked) {
    steps.push_back(absl::StrCat(
        "Delete the rich menus made with the Messaging API (LINE Official Account Manager does "
        "not show them): list them with GET ",
        kRichMenuApi, "/list and delete each with DELETE ", kRichMenuApi,
        "/{richMenuId}, using the channel's access token."));
    steps.push_back(
        absl::StrCat("Cancel the default rich menu set with the Messaging API, if "
                     "there is one: DELETE ",
                     kDefaultRichMenuApi, " with the channel's access token."));
    return;
  }
  if (leftovers.default_rich_menu_set) {
    steps.push_back(absl::StrCat(
        "Cancel the default rich menu ", leftovers.default_rich_menu_id,
        ", which every user without a rich menu of their own sees: DELETE ", kDefaultRichMenuApi,
        " with the channel's access token (deleting that rich menu cancels it too)."));
  }
  if (leftovers.rich_menu_count > 0) {
    steps.push_back(absl::StrCat(
        "Delete the ", Plural(leftovers.rich_menu_count, "rich menu", "rich menus"),
        " made with the Messaging API: LINE Official Account Manager does not show them, so "
        "delete each with DELETE ",
        kRichMenuApi, "/{richMenuId} (ids from GET ", kRichMenuApi,
        "/list) using the channel's access token, or with your new service's tools."));
  }
}

void AddSteps(const std::string& retired_url, UnbindReport& report) {
  std::vector<std::string>& steps = report.leftovers.steps;
  AddWebhookSteps(report.retired_url, retired_url, steps);
  AddRichMenuSteps(report.leftovers, steps);
}

}  // namespace

UnbindReport AskLineWhatIsLeft(LineApi& line, const Secret& access_token,
                               const std::string& retired_url, bool clear_webhook_url,
                               absl::Time deadline) {
  UnbindReport report;
  absl::StatusOr<std::optional<LineWebhookEndpoint>> current =
      ReadEndpoint(line, access_token, deadline);
  if (!current.ok()) {
    report.retired_url = UnknownRetired(retired_url, current.status().message());
    if (clear_webhook_url) {
      report.webhook_url_clear = {WebhookUrlClear::Outcome::kFailed,
                                  CouldNotAsk(current.status().message())};
    }
  } else {
    if (clear_webhook_url) {
      report.webhook_url_clear = Clear(line, access_token, retired_url, deadline, *current);
    }
    report.retired_url = DescribeRetired(*current, retired_url);
  }

  LineLeftovers& leftovers = report.leftovers;
  absl::StatusOr<std::vector<LineRichMenu>> menus = line.ListRichMenus(access_token, deadline);
  absl::StatusOr<std::string> default_menu =
      menus.ok() ? line.GetDefaultRichMenuId(access_token, deadline) : menus.status();
  if (!menus.ok()) {
    leftovers.detail = CouldNotAsk(menus.status().message());
  } else if (!default_menu.ok() && !absl::IsNotFound(default_menu.status())) {
    leftovers.detail = CouldNotAsk(default_menu.status().message());
  } else {
    leftovers.line_asked = true;
    leftovers.rich_menu_count = static_cast<int>(menus->size());
    leftovers.default_rich_menu_set = default_menu.ok();
    if (default_menu.ok()) leftovers.default_rich_menu_id = *default_menu;
    leftovers.detail = absl::StrCat(
        "LINE reports ", Plural(leftovers.rich_menu_count, "rich menu", "rich menus"),
        " made with the Messaging API and ",
        leftovers.default_rich_menu_set ? "a default rich menu" : "no default rich menu", ".");
  }
  AddSteps(retired_url, report);
  return report;
}

UnbindReport CouldNotAskLine(const std::string& retired_url, bool clear_webhook_url,
                             absl::string_view reason) {
  UnbindReport report;
  report.retired_url = UnknownRetired(retired_url, reason);
  report.leftovers.detail = CouldNotAsk(reason);
  if (clear_webhook_url) {
    report.webhook_url_clear = {WebhookUrlClear::Outcome::kFailed, CouldNotAsk(reason)};
  }
  AddSteps(retired_url, report);
  return report;
}

std::string ClearAuditDetail(const WebhookUrlClear& clear) {
  switch (clear.outcome) {
    case WebhookUrlClear::Outcome::kNotRequested:
      break;
    case WebhookUrlClear::Outcome::kCleared:
      return "webhook URL removed from LINE";
    case WebhookUrlClear::Outcome::kLeftAlone:
      return "webhook URL on LINE left alone: not this binding's";
    case WebhookUrlClear::Outcome::kFailed:
      return "webhook URL could not be removed from LINE";
  }
  return "";
}

}  // namespace linechannel::server
