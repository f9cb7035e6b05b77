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

// kUnbound for unbound bindings. Otherwise kNeedsAttention when the last check with LINE found
// something wrong, or when requests with a bad signature or another bot's destination arrived
// after the last correctly signed one; kActive if neither. Pure; thread-safe.
BindingHealth HealthOf(const storage::Binding& binding);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_BINDING_HEALTH_H_
