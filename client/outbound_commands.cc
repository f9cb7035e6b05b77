#include "client/outbound_commands.h"

#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "client/command_line.h"
#include "client/content_file.h"
#include "client/message_input.h"
#include "client/output.h"
#include "google/protobuf/struct.pb.h"

// Declared for --help only: main() takes every --text out of argv before the flags are parsed
// (CommandContext::texts), because a flag library keeps only a flag's last value.
ABSL_FLAG(std::string, text, "",
          "reply/push: a text message (any UTF-8, emoji included); repeat for several, up to 5.");
ABSL_FLAG(std::string, message_file, "",
          "reply/push: file with one LINE message object or a JSON array of them (- for standard "
          "input), instead of --text.");
ABSL_FLAG(bool, notification_disabled, false, "reply/push: the user gets no push notification.");
ABSL_FLAG(std::string, reply_token, "", "reply: the event's replyToken (single-use).");
ABSL_FLAG(std::string, to, "", "push: the user (U...), group (C...) or room (R...) ID.");
ABSL_FLAG(std::string, request_id, "",
          "push/push-status: the push's idempotency key (push: default a new random UUID, "
          "printed so the push can be checked or repeated safely).");
ABSL_FLAG(std::string, user_id, "", "profile: the user (U...).");
ABSL_FLAG(std::string, group_id, "", "profile: the user as a member of this group (C...).");
ABSL_FLAG(std::string, room_id, "", "profile: the user as a member of this room (R...).");
ABSL_FLAG(std::string, message_id, "", "content: the image, video, audio or file message's id.");
ABSL_FLAG(std::string, out, "",
          "content: write the bytes here (via FILE.part, renamed when complete), or - for "
          "standard output.");
ABSL_FLAG(absl::Duration, content_timeout, absl::Minutes(10),
          "content: give up on a download after this long (--timeout is for the other calls).");
ABSL_FLAG(std::string, mark_as_read_token, "", "mark-read: the message's markAsReadToken.");
ABSL_FLAG(std::string, chat_id, "", "loading: the user (U...) whose chat shows the animation.");
ABSL_FLAG(int32_t, seconds, 0, "loading: 5-60 in steps of 5 (default 20).");

namespace linechannel::client {
namespace {

using ChannelStub = v1::ChannelService::Stub;

// Every command names one binding.
std::string MissingWithBinding(const CommandContext& context,
                               std::vector<std::pair<std::string, std::string>> more) {
  more.insert(more.begin(), {{"team", context.team}, {"channel_id", context.channel_id}});
  return MissingFlags(more);
}

template <typename Request>
Request ForBinding(const CommandContext& context) {
  Request request;
  request.set_team_id(context.team);
  request.set_channel_id(context.channel_id);
  return request;
}

// The messages of --text (each its own text message) or --message_file; exactly one of them.
absl::StatusOr<std::vector<std::string>> Messages(const CommandContext& context) {
  const std::string file = absl::GetFlag(FLAGS_message_file);
  if (context.texts.empty() == file.empty()) {
    return absl::InvalidArgumentError("give the messages as --text (repeatable) or --message_file");
  }
  if (file.empty()) return TextMessages(context.texts);
  std::ostringstream content;
  if (file == "-") {
    content << std::cin.rdbuf();
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) return absl::InvalidArgumentError("cannot read the message file " + file);
    content << in.rdbuf();
  }
  return MessagesFromJson(content.str());
}

// A version 4 UUID, for a push without --request_id.
std::string NewRequestId() {
  std::random_device random;
  uint8_t bytes[16];
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(random());
  bytes[6] = (bytes[6] & 0x0F) | 0x40;
  bytes[8] = (bytes[8] & 0x3F) | 0x80;
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    absl::StrAppend(&out, absl::StrFormat("%02x", bytes[i]));
  }
  return out;
}

int Reply(const CommandContext& context) {
  const std::string missing =
      MissingWithBinding(context, {{"reply_token", absl::GetFlag(FLAGS_reply_token)}});
  if (!missing.empty()) return UsageError("reply needs " + missing);
  absl::StatusOr<std::vector<std::string>> messages = Messages(context);
  if (!messages.ok()) return UsageError(std::string(messages.status().message()));
  auto request = ForBinding<v1::ReplyMessageRequest>(context);
  request.set_reply_token(absl::GetFlag(FLAGS_reply_token));
  for (std::string& m : *messages) request.add_messages(std::move(m));
  request.set_notification_disabled(absl::GetFlag(FLAGS_notification_disabled));
  const absl::StatusOr<v1::ReplyMessageResponse> replied =
      context.client->Call(&ChannelStub::ReplyMessage, request);
  const int exit_code = ReportResult(replied, context.json, [](const v1::ReplyMessageResponse& r) {
    std::cout << FormatReply(r);
  });
  if (!replied.ok() && !context.json) {
    // Replies are never retried; say what to do instead of running the command again.
    const std::string reason = DecodeErrorDetails(replied.status()).reason;
    if (reason == "OUTCOME_UNKNOWN") {
      std::cerr << "  The customer may have the reply already. Look at the chat before sending "
                   "anything again, and send it as a push (channelctl push) if it is missing.\n";
    } else if (reason == "REPLY_TOKEN_INVALID") {
      std::cerr << "  Nothing was sent. Answer with channelctl push --to=<the event's user> "
                   "instead.\n";
    }
  }
  return exit_code;
}

int Push(const CommandContext& context) {
  const std::string missing = MissingWithBinding(context, {{"to", absl::GetFlag(FLAGS_to)}});
  if (!missing.empty()) return UsageError("push needs " + missing);
  absl::StatusOr<std::vector<std::string>> messages = Messages(context);
  if (!messages.ok()) return UsageError(std::string(messages.status().message()));
  auto request = ForBinding<v1::PushMessageRequest>(context);
  request.set_to(absl::GetFlag(FLAGS_to));
  for (std::string& m : *messages) request.add_messages(std::move(m));
  request.set_notification_disabled(absl::GetFlag(FLAGS_notification_disabled));
  std::string request_id = absl::GetFlag(FLAGS_request_id);
  if (request_id.empty()) {
    // Printed before the call, so that even when the answer is lost (a timeout) the operator
    // can ask where the push stands, or repeat it without sending it twice.
    request_id = NewRequestId();
    std::cerr << "channelctl: this push's request id is " << request_id << "\n"
              << "  check it:  channelctl push-status --team=" << context.team
              << " --channel_id=" << context.channel_id << " --request_id=" << request_id << "\n"
              << "  repeat it safely (nothing is sent twice): the same push with --request_id="
              << request_id << "\n";
  }
  request.set_request_id(request_id);
  return ReportResult(context.client->Call(&ChannelStub::PushMessage, request), context.json,
                      [](const v1::PushMessageResponse& r) { std::cout << FormatPushResponse(r); });
}

int PushStatus(const CommandContext& context) {
  const std::string missing =
      MissingWithBinding(context, {{"request_id", absl::GetFlag(FLAGS_request_id)}});
  if (!missing.empty()) return UsageError("push-status needs " + missing);
  auto request = ForBinding<v1::GetPushRequest>(context);
  request.set_request_id(absl::GetFlag(FLAGS_request_id));
  return ReportResult(context.client->Call(&ChannelStub::GetPush, request), context.json,
                      [](const v1::Push& push) { std::cout << FormatPush(push); });
}

int Profile(const CommandContext& context) {
  const std::string missing =
      MissingWithBinding(context, {{"user_id", absl::GetFlag(FLAGS_user_id)}});
  if (!missing.empty()) return UsageError("profile needs " + missing);
  if (!absl::GetFlag(FLAGS_group_id).empty() && !absl::GetFlag(FLAGS_room_id).empty()) {
    return UsageError("profile takes --group_id or --room_id, not both");
  }
  auto request = ForBinding<v1::GetProfileRequest>(context);
  request.set_user_id(absl::GetFlag(FLAGS_user_id));
  request.set_group_id(absl::GetFlag(FLAGS_group_id));
  request.set_room_id(absl::GetFlag(FLAGS_room_id));
  return ReportResult(context.client->Call(&ChannelStub::GetProfile, request), context.json,
                      [](const v1::Profile& profile) { std::cout << FormatProfile(profile); });
}

int Quota(const CommandContext& context) {
  const std::string missing = MissingWithBinding(context, {});
  if (!missing.empty()) return UsageError("quota needs " + missing);
  return ReportResult(context.client->Call(&ChannelStub::GetMessageQuota,
                                           ForBinding<v1::GetMessageQuotaRequest>(context)),
                      context.json,
                      [](const v1::MessageQuota& quota) { std::cout << FormatQuota(quota); });
}

int MarkRead(const CommandContext& context) {
  const std::string missing = MissingWithBinding(
      context, {{"mark_as_read_token", absl::GetFlag(FLAGS_mark_as_read_token)}});
  if (!missing.empty()) return UsageError("mark-read needs " + missing);
  auto request = ForBinding<v1::MarkAsReadRequest>(context);
  request.set_mark_as_read_token(absl::GetFlag(FLAGS_mark_as_read_token));
  return ReportResult(context.client->Call(&ChannelStub::MarkAsRead, request), context.json,
                      [](const v1::MarkAsReadResponse&) {
                        std::cout << "marked as read (that message and every earlier one in the "
                                     "chat)\n";
                      });
}

int Loading(const CommandContext& context) {
  const std::string missing =
      MissingWithBinding(context, {{"chat_id", absl::GetFlag(FLAGS_chat_id)}});
  if (!missing.empty()) return UsageError("loading needs " + missing);
  auto request = ForBinding<v1::ShowLoadingAnimationRequest>(context);
  request.set_chat_id(absl::GetFlag(FLAGS_chat_id));
  request.set_loading_seconds(absl::GetFlag(FLAGS_seconds));
  const int32_t seconds = request.loading_seconds() == 0 ? 20 : request.loading_seconds();
  return ReportResult(context.client->Call(&ChannelStub::ShowLoadingAnimation, request),
                      context.json, [seconds](const v1::ShowLoadingAnimationResponse&) {
                        std::cout << "loading animation shown for up to " << seconds
                                  << " seconds (it ends when the OA's next message arrives)\n";
                      });
}

int Content(const CommandContext& context) {
  const std::string out_path = absl::GetFlag(FLAGS_out);
  const std::string missing = MissingWithBinding(
      context, {{"message_id", absl::GetFlag(FLAGS_message_id)}, {"out", out_path}});
  if (!missing.empty()) return UsageError("content needs " + missing);
  absl::StatusOr<std::unique_ptr<ContentFile>> file = ContentFile::Open(out_path);
  if (!file.ok()) return UsageError(std::string(file.status().message()));
  auto request = ForBinding<v1::GetMessageContentRequest>(context);
  request.set_message_id(absl::GetFlag(FLAGS_message_id));

  std::string content_type;
  int64_t size = -1;
  bool first = true;
  absl::Status write_error;
  const absl::Status streamed = context.client->ReadMessageContent(
      request, absl::GetFlag(FLAGS_content_timeout), [&](const v1::MessageContentChunk& chunk) {
        if (first) {
          content_type = chunk.content_type();
          size = chunk.size();
          first = false;
        }
        write_error = (*file)->Append(chunk.data());
        return write_error.ok();
      });
  // The part file goes away with `file` on every error path below.
  if (!write_error.ok()) {
    std::cerr << "channelctl: " << write_error.message() << "\n";
    return kExitServerError;
  }
  if (!streamed.ok()) return PrintServerError(streamed, context.json);
  const int64_t written = (*file)->bytes_written();
  if (size >= 0 && written != size) {
    std::cerr << "channelctl: the content ended after " << written << " of " << size
              << " bytes; nothing was kept\n";
    return kExitServerError;
  }
  if (const absl::Status committed = (*file)->Commit(); !committed.ok()) {
    std::cerr << "channelctl: " << committed.message() << "\n";
    return kExitServerError;
  }
  // The summary never goes to standard output when the content does.
  std::ostream& summary = out_path == "-" ? std::cerr : std::cout;
  if (context.json) {
    google::protobuf::Struct result;
    auto& fields = *result.mutable_fields();
    fields["out"].set_string_value(out_path);
    fields["contentType"].set_string_value(content_type);
    fields["size"].set_number_value(static_cast<double>(size));
    fields["bytesWritten"].set_number_value(static_cast<double>(written));
    summary << FormatJson(result) << "\n";
  } else {
    std::cerr << "saved " << written << " bytes of "
              << (content_type.empty() ? "content" : content_type) << " to "
              << (*file)->destination() << "\n";
  }
  return kExitOk;
}

// Every outbound command, by name.
struct OutboundCommand {
  const char* name;
  int (*run)(const CommandContext&);
};
constexpr OutboundCommand kCommands[] = {
    {"reply", Reply},     {"push", Push},   {"push-status", PushStatus}, {"profile", Profile},
    {"content", Content}, {"quota", Quota}, {"mark-read", MarkRead},     {"loading", Loading},
};

}  // namespace

bool IsOutboundCommand(const std::string& command) {
  for (const OutboundCommand& known : kCommands) {
    if (command == known.name) return true;
  }
  return false;
}

int RunOutboundCommand(const std::string& command, const CommandContext& context) {
  for (const OutboundCommand& known : kCommands) {
    if (command == known.name) return known.run(context);
  }
  return UsageError("unknown command \"" + command + "\"");
}

}  // namespace linechannel::client
