#ifndef LINECHANNEL_SERVER_BINDING_BINDING_HEALTH_H_
#define LINECHANNEL_SERVER_BINDING_BINDING_HEALTH_H_

#include <string>
#include <vector>

#include "linechannel/v1/channel_service.pb.h"
#include "storage/binding.h"

namespace linechannel::server {

// Where a binding stands, and why, in plain words.
struct BindingHealth {
  v1::BindingState state = v1::BINDING_STATE_UNSPECIFIED;
  std::vector<std::string> reasons;
};

// UNBOUND for unbound bindings. Otherwise NEEDS_ATTENTION when the last check with LINE found
// something wrong, or when requests with a bad signature or another bot's destination arrived
// after the last correctly signed one; ACTIVE if neither. Pure; thread-safe.
BindingHealth HealthOf(const storage::Binding& binding);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_BINDING_HEALTH_H_
