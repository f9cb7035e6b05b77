#ifndef LINECHANNEL_SERVER_BINDING_LINE_CONSOLE_H_
#define LINECHANNEL_SERVER_BINDING_LINE_CONSOLE_H_

namespace linechannel::server {

// Where people find LINE's settings, as our steps name them.
inline constexpr char kWebhookSettings[] =
    "LINE Developers > your channel > Messaging API > Webhook settings";
inline constexpr char kResponseSettings[] =
    "LINE Official Account Manager > Settings > Response settings";

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_LINE_CONSOLE_H_
