#ifndef LINECHANNEL_SERVER_BINDING_UNBIND_LEFTOVERS_H_
#define LINECHANNEL_SERVER_BINDING_UNBIND_LEFTOVERS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/binding/retired_url.h"
#include "server/crypto/secret.h"
#include "server/line/line_api.h"

namespace linechannel::server {

// What an unbind's clear_webhook_url did about LINE's webhook URL.
struct WebhookUrlClear {
  enum class Outcome {
    // Clearing was not asked for.
    kNotRequested,
    // LINE's URL was the binding's; LINE now has none.
    kCleared,
    // LINE's URL is another one, or none: not ours, so not touched.
    kLeftAlone,
    // LINE could not be asked, or refused; `detail` says why.
    kFailed,
  };
  Outcome outcome = Outcome::kNotRequested;
  std::string detail;
};

// What an unbind leaves on LINE for the customer to clean up (our onboarding guide's list).
struct LineLeftovers {
  // LINE answered both rich-menu questions; otherwise `detail` says "could not ask LINE: ..."
  // and the counts are zero.
  bool line_asked = false;
  std::string detail;
  // Rich menus made with the Messaging API.
  int rich_menu_count = 0;
  bool default_rich_menu_set = false;
  std::string default_rich_menu_id;
  // What the customer must still do on LINE, in order; empty when nothing.
  std::vector<std::string> steps;
};

// Everything an unbind reports about LINE.
struct UnbindReport {
  RetiredUrl retired_url;
  LineLeftovers leftovers;
  WebhookUrlClear webhook_url_clear;
};

// Asks LINE, with the binding's `access_token`, whether it still calls `retired_url` and which
// rich menus the channel has; with `clear_webhook_url`, removes `retired_url` from LINE if (and
// only if) it is LINE's webhook URL, and reads it back. Every call gives up at `deadline`.
// Never fails: what LINE could not answer is said in the report.
UnbindReport AskLineWhatIsLeft(LineApi& line, const Secret& access_token,
                               const std::string& retired_url, bool clear_webhook_url,
                               absl::Time deadline);

// The report when LINE is not asked at all (`reason`: why, in plain words): the general steps.
UnbindReport CouldNotAskLine(const std::string& retired_url, bool clear_webhook_url,
                             absl::string_view reason);

// The unbind's audit detail for what clearing did; empty when it was not asked for. Never
// holds a secret, a token or the URL.
std::string ClearAuditDetail(const WebhookUrlClear& clear);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_UNBIND_LEFTOVERS_H_
