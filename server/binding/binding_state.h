#ifndef LINECHANNEL_SERVER_BINDING_BINDING_STATE_H_
#define LINECHANNEL_SERVER_BINDING_BINDING_STATE_H_

namespace linechannel::server {

// Where a binding stands (see HealthOf in binding_health.h for how it is decided).
enum class BindingState {
  // Bound; nothing known to be wrong.
  kActive,
  // Bound, but something needs a person's attention.
  kNeedsAttention,
  // Unbound: the webhook URL is retired and the OA is free.
  kUnbound,
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_BINDING_STATE_H_
