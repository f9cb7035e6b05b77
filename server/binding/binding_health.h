#ifndef LINECHANNEL_SERVER_BINDING_BINDING_HEALTH_H_
#define LINECHANNEL_SERVER_BINDING_BINDING_HEALTH_H_

#include <string>
#include <vector>

#include "server/binding/binding_state.h"
#include "storage/binding.h"

namespace linechannel::server {

// Where a binding stands, and why, in plain words.
struct BindingHealth {
  BindingState state = BindingState::kActive;
  std::vector<std::string> reasons;
};

// The attention reason of a bot LINE suspended (botSuspended), until LINE resumes it.
inline constexpr char kBotSuspendedReason[] =
    "BOT_SUSPENDED: LINE suspended this LINE Official Account (botSuspended); it receives and "
    "sends no messages until LINE resumes it (botResumed). Ask LINE (or the account's admin) "
    "why.";

// Where a binding stands by what is stored about it: the findings of the last check with LINE
// and LINE's suspension of the bot (webhook troubles not included). kNeedsAttention if either
// has something to say, kActive if not.
BindingHealth HealthOfFindings(const std::vector<std::string>& attention_reasons,
                               bool bot_suspended);

// kUnbound for unbound bindings. Otherwise kNeedsAttention when the last check with LINE found
// something wrong, LINE has the bot suspended, or when requests with a bad signature or another
// bot's destination arrived after the last correctly signed one; kActive if neither. Pure;
// thread-safe.
BindingHealth HealthOf(const storage::Binding& binding);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_BINDING_HEALTH_H_
