#ifndef LINECHANNEL_SERVER_GRPC_REQUEST_VALIDATION_H_
#define LINECHANNEL_SERVER_GRPC_REQUEST_VALIDATION_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "linechannel/v1/channel_service.pb.h"

namespace linechannel::server {

// Request checks of the ChannelService RPCs. Each returns OK or one INVALID_ARGUMENT that
// names every bad field at once (google.rpc.BadRequest), so a user fixes them in one go.
// The descriptions never echo a secret or token. Pure functions; thread-safe.
absl::Status ValidateBindChannel(const v1::BindChannelRequest& request);
absl::Status ValidateUpdateCredentials(const v1::UpdateCredentialsRequest& request);
absl::Status ValidateListChannels(const v1::ListChannelsRequest& request);
// ListAuditEntries: the team, an optional channel, page_size and page_token as for
// ListChannels (a ListChannels token is refused).
absl::Status ValidateListAuditEntries(const v1::ListAuditEntriesRequest& request);
// For the RPCs that name one binding: GetChannel, GetWebhookUrl, UnbindChannel, VerifyWebhook.
absl::Status ValidateBindingRef(absl::string_view team_id, absl::string_view channel_id);

// Outbound messaging (messaging.proto). Each checks team_id and channel_id as
// ValidateBindingRef does, then its own fields:
// ReplyMessage: reply_token (1-256 printable ASCII characters) and messages (CheckMessages).
absl::Status ValidateReplyMessage(const v1::ReplyMessageRequest& request);
// PushMessage: `to` (a user "U", group "C" or room "R" ID: the letter and 32 lower-case hex
// digits), messages (CheckMessages) and request_id (required: 1-64 letters, digits, '-', '_',
// '.' or ':').
absl::Status ValidatePushMessage(const v1::PushMessageRequest& request);
// GetPush: request_id as for PushMessage.
absl::Status ValidateGetPush(const v1::GetPushRequest& request);
// GetProfile: user_id ("U" + 32 hex); at most one of group_id ("C" + 32 hex) and room_id
// ("R" + 32 hex).
absl::Status ValidateGetProfile(const v1::GetProfileRequest& request);
// GetMessageContent: message_id, LINE's id of a message: 1-64 digits.
absl::Status ValidateGetMessageContent(const v1::GetMessageContentRequest& request);
// GetMessageQuota: the binding only.
absl::Status ValidateGetMessageQuota(const v1::GetMessageQuotaRequest& request);
// MarkAsRead: mark_as_read_token (1-512 printable ASCII characters).
absl::Status ValidateMarkAsRead(const v1::MarkAsReadRequest& request);
// ShowLoadingAnimation: chat_id ("U" + 32 hex); loading_seconds 0 (for 20) or 5-60
// in steps of 5.
absl::Status ValidateShowLoadingAnimation(const v1::ShowLoadingAnimationRequest& request);

// StreamEvents and ListEvents (page_size 0 for StreamEvents): the team, an optional channel,
// a cursor that is not negative.
absl::Status ValidateEventQuery(absl::string_view team_id, absl::string_view channel_id,
                                int64_t after_cursor, int32_t page_size);

// ListChannels page tokens: opaque to clients, a row position to us.
std::string EncodePageToken(int64_t after_row_id);
// False if `token` is not one EncodePageToken made.
bool DecodePageToken(absl::string_view token, int64_t* after_row_id);

// ListAuditEntries page tokens: opaque to clients, an audit row id to us.
std::string EncodeAuditPageToken(int64_t before_id);
// False if `token` is not one EncodeAuditPageToken made.
bool DecodeAuditPageToken(absl::string_view token, int64_t* before_id);

// Page size limits of ListChannels and ListAuditEntries.
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_REQUEST_VALIDATION_H_
