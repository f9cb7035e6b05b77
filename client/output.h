#ifndef LINECHANNEL_CLIENT_OUTPUT_H_
#define LINECHANNEL_CLIENT_OUTPUT_H_

#include <string>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "linechannel/v1/channel_service.pb.h"

namespace linechannel::client {

// How channelctl shows results: readable text for people, or JSON (the proto JSON mapping,
// as grpcurl prints it) for scripts.

// "key: value" lines, one per field that matters to an operator.
std::string FormatChannel(const v1::Channel& channel);
// One line per binding under a header.
std::string FormatChannelTable(const v1::ListChannelsResponse& page);
// One line per audit entry under a header: time, action, channel, binding, actor, detail;
// "no audit entries" when there are none.
std::string FormatAuditTable(const v1::ListAuditEntriesResponse& page);
// VerifyWebhook's answer as a table of checks, then the verdict and the next steps.
std::string FormatVerification(const v1::VerifyWebhookResponse& response);
// The exit status of a VerifyWebhook that answered: 0 OK, 3 ACTION_NEEDED, 4 LINE_UNAVAILABLE,
// so that a script tells "a person must fix something" from "ask again later" without parsing.
int VerdictExitStatus(v1::Verdict verdict);
// What BindChannel did about LINE's webhook settings, and the steps left.
std::string FormatWebhookSetup(const v1::WebhookSetup& setup);
// What an unbind left on LINE: the retired URL, what clear_webhook_url did, the rich-menu
// counts and the numbered steps.
std::string FormatUnbindLeftovers(const v1::UnbindChannelResponse& response);

// ReplyMessage's answer: the ids LINE gave the messages and LINE's request id.
std::string FormatReply(const v1::ReplyMessageResponse& response);
// Where a push stands: state (with what PENDING and FAILED mean), attempts, retry key, the
// ids LINE gave the messages, times.
std::string FormatPush(const v1::Push& push);
// PushMessage's answer: whether it was new ("already known: nothing new was sent" if not),
// then FormatPush.
std::string FormatPushResponse(const v1::PushMessageResponse& response);
std::string FormatProfile(const v1::Profile& profile);
std::string FormatQuota(const v1::MessageQuota& quota);

// One event per line: cursor, receive time, channel, type, id, source, then what answering it
// takes when the event has it: reply_token=…, message=<type>:<id> (for content),
// mark_as_read_token=…. Never the message's text. A lifecycle event instead shows its binding,
// who made the change, its detail and the binding's state then, and its attention reasons on
// lines of their own.
std::string FormatEventLine(const v1::Event& event);
// Any message as JSON on one line (for streams of events).
std::string FormatJsonLine(const google::protobuf::Message& message);
// Any response as JSON.
std::string FormatJson(const google::protobuf::Message& message);

// An error for people: code, reason and message, then each bad field on its own line.
std::string FormatError(const absl::Status& status);
// An error as JSON: {"code", "message", "reason", "metadata", "fieldViolations", ...}.
std::string FormatErrorJson(const absl::Status& status);

}  // namespace linechannel::client

#endif  // LINECHANNEL_CLIENT_OUTPUT_H_
