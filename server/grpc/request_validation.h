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
// For the RPCs that name one binding: GetChannel, GetWebhookUrl, UnbindChannel, VerifyWebhook.
absl::Status ValidateBindingRef(absl::string_view team_id, absl::string_view channel_id);

// StreamEvents and ListEvents (page_size 0 for StreamEvents): the team, an optional channel,
// a cursor that is not negative.
absl::Status ValidateEventQuery(absl::string_view team_id, absl::string_view channel_id,
                                int64_t after_cursor, int32_t page_size);


// ListChannels page tokens: opaque to clients, a row position to us.
std::string EncodePageToken(int64_t after_row_id);
// False if `token` is not one EncodePageToken made.
bool DecodePageToken(absl::string_view token, int64_t* after_row_id);

// Page size limits of ListChannels.
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_REQUEST_VALIDATION_H_
