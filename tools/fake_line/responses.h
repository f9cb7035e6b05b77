#ifndef LINECHANNEL_TOOLS_FAKE_LINE_RESPONSES_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_RESPONSES_H_

#include "absl/strings/string_view.h"
#include "tools/fake_line/http_message.h"
#include "tools/fake_line/json_writer.h"

namespace linechannel::fake_line {

// `body` as a JSON answer with `status`.
HttpResponse JsonResponse(int status, const JsonObject& body);

// LINE's OAuth error shape: {"error": `error`, "error_description": `description`}.
HttpResponse OAuthError(int status, absl::string_view error, absl::string_view description);

// LINE's Messaging API error shape: {"message": `message`}, plus
// "details": [{"message": `detail`, "property": `property`}] when `detail` is not empty.
HttpResponse BotError(int status, absl::string_view message, absl::string_view detail = "",
                      absl::string_view property = "");

// 405 with an Allow header listing `allow`.
HttpResponse MethodNotAllowed(absl::string_view allow);

// The message of LINE's 400 for a request body that breaks a rule; the rule is in details.
inline constexpr char kBodyErrorsMessage[] = "The request body has 1 error(s)";

// The message LINE answers 401 with for an unknown, revoked or expired token.
inline constexpr char kAuthFailedMessage[] =
    "Authentication failed. Confirm that the access token in the authorization header is valid.";

// The message LINE answers 429 with.
inline constexpr char kRateLimitMessage[] =
    "The API rate limit has been exceeded. Try again later.";

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_RESPONSES_H_
