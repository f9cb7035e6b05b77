#ifndef LINECHANNEL_SERVER_BINDING_RETIRED_URL_H_
#define LINECHANNEL_SERVER_BINDING_RETIRED_URL_H_

#include <string>

namespace linechannel::server {

// After an unbind: whether LINE still calls the binding's retired webhook URL.
struct RetiredUrl {
  enum class State {
    // LINE's webhook URL is still the retired one: LINE's calls will get 404.
    kStillSetOnLine,
    // LINE's webhook URL is another one, or none.
    kNotSetOnLine,
    // LINE could not be asked (unreachable, or the token no longer works).
    kUnknown,
  };
  State state = State::kUnknown;
  // The URL LINE has now, if it could be read.
  std::string line_webhook_url;
  std::string next_step;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_RETIRED_URL_H_
