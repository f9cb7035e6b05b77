#ifndef LINECHANNEL_SERVER_BINDING_WEBHOOK_SETUP_H_
#define LINECHANNEL_SERVER_BINDING_WEBHOOK_SETUP_H_

#include <string>
#include <vector>

namespace linechannel::server {

// What a bind did to the channel's webhook settings on LINE, and what the user must still do.
struct WebhookSetup {
  enum class Action {
    // Setting LINE's webhook URL was not asked for.
    kNotRequested,
    // LINE had no URL (or the binding's own); it now has the binding's.
    kSet,
    // LINE had another URL, replaced as asked.
    kReplaced,
    // LINE had another URL and overwriting was not asked for: nothing was changed.
    kLeftUnchanged,
    // LINE could not be asked or refused; `detail` says why. The binding itself stands.
    kFailed,
  };
  Action action = Action::kNotRequested;
  // LINE's URL before; empty if none was set (or it could not be read).
  std::string previous_url;
  // The "Use webhook" switch as LINE reported it.
  bool webhook_enabled = false;
  // What the user must still do, in order, in plain words; empty when nothing is left.
  std::vector<std::string> remaining_steps;
  std::string detail;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_WEBHOOK_SETUP_H_
