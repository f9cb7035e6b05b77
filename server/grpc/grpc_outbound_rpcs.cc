// The outbound RPCs of GrpcChannelService: replies, pushes, profiles, content, quota and chat
// indicators through a team's bound OA (server/messaging/outbound_service.h).
#include <string>
#include <vector>

#include "server/base/errors.h"
#include "server/grpc/answer.h"
#include "server/grpc/content_stream.h"
#include "server/grpc/grpc_channel_service.h"
#include "server/grpc/grpc_status.h"
#include "server/grpc/outbound_proto.h"
#include "server/grpc/refused_stream.h"
#include "server/grpc/request_validation.h"

namespace linechannel::server {
namespace {

using Access = RpcGate::Access;

std::vector<std::string> Messages(const google::protobuf::RepeatedPtrField<std::string>& messages) {
  return {messages.begin(), messages.end()};
}

// The member profile's group or room, whichever the request names.
const std::string& GroupOrRoom(const v1::GetProfileRequest& request) {
  return request.group_id().empty() ? request.room_id() : request.group_id();
}

}  // namespace

grpc::ServerUnaryReactor* GrpcChannelService::ReplyMessage(grpc::CallbackServerContext* context,
                                                           const v1::ReplyMessageRequest* request,
                                                           v1::ReplyMessageResponse* response) {
  return gate_->Blocking(
      context, {"ReplyMessage", request->team_id(), request->channel_id()},
      ValidateReplyMessage(*request), Access::kTeam,
      [this, request, response](const CallContext& call) -> absl::Status {
        ReplyCommand reply{request->team_id(), request->channel_id(), request->reply_token(),
                           Messages(request->messages()), request->notification_disabled()};
        return Answer(outbound_->Reply(reply, call), [&](const LineSendResult& sent) {
          ToSentMessagesProto(sent.sent_messages, response->mutable_sent_messages());
          response->set_line_request_id(sent.request_id);
        });
      });
}

grpc::ServerUnaryReactor* GrpcChannelService::PushMessage(grpc::CallbackServerContext* context,
                                                          const v1::PushMessageRequest* request,
                                                          v1::PushMessageResponse* response) {
  return gate_->Blocking(context, {"PushMessage", request->team_id(), request->channel_id()},
                         ValidatePushMessage(*request), Access::kTeam,
                         [this, request, response](const CallContext& call) -> absl::Status {
                           PushCommand push{request->team_id(),
                                            request->channel_id(),
                                            request->to(),
                                            Messages(request->messages()),
                                            request->notification_disabled(),
                                            request->request_id()};
                           return Answer(outbound_->Push(push, call),
                                         [&](const PushAnswer& answer) {
                                           ToPushProto(answer.push, response->mutable_push());
                                           response->set_created(answer.created);
                                         });
                         });
}

grpc::ServerUnaryReactor* GrpcChannelService::GetPush(grpc::CallbackServerContext* context,
                                                      const v1::GetPushRequest* request,
                                                      v1::Push* response) {
  return gate_->Inline(
      context, {"GetPush", request->team_id(), request->channel_id()}, ValidateGetPush(*request),
      Access::kTeam, [&](const CallContext&) -> absl::Status {
        return Answer(
            outbound_->GetPush(request->team_id(), request->channel_id(), request->request_id()),
            [&](const storage::PushRecord& push) { ToPushProto(push, response); });
      });
}

grpc::ServerUnaryReactor* GrpcChannelService::GetProfile(grpc::CallbackServerContext* context,
                                                         const v1::GetProfileRequest* request,
                                                         v1::Profile* response) {
  return gate_->Blocking(
      context, {"GetProfile", request->team_id(), request->channel_id()},
      ValidateGetProfile(*request), Access::kTeam,
      [this, request, response](const CallContext& call) -> absl::Status {
        return Answer(outbound_->GetProfile(request->team_id(), request->channel_id(),
                                            request->user_id(), GroupOrRoom(*request), call),
                      [&](const LineProfile& profile) { ToProfileProto(profile, response); });
      });
}

grpc::ServerUnaryReactor* GrpcChannelService::GetMessageQuota(
    grpc::CallbackServerContext* context, const v1::GetMessageQuotaRequest* request,
    v1::MessageQuota* response) {
  return gate_->Blocking(
      context, {"GetMessageQuota", request->team_id(), request->channel_id()},
      ValidateBindingRef(request->team_id(), request->channel_id()), Access::kTeam,
      [this, request, response](const CallContext& call) -> absl::Status {
        return Answer(outbound_->GetQuota(request->team_id(), request->channel_id(), call),
                      [&](const LineQuota& quota) { ToQuotaProto(quota, response); });
      });
}

grpc::ServerUnaryReactor* GrpcChannelService::MarkAsRead(grpc::CallbackServerContext* context,
                                                         const v1::MarkAsReadRequest* request,
                                                         v1::MarkAsReadResponse*) {
  return gate_->Blocking(context, {"MarkAsRead", request->team_id(), request->channel_id()},
                         ValidateMarkAsRead(*request), Access::kTeam,
                         [this, request](const CallContext& call) -> absl::Status {
                           return outbound_->MarkAsRead(request->team_id(), request->channel_id(),
                                                        request->mark_as_read_token(), call);
                         });
}

grpc::ServerUnaryReactor* GrpcChannelService::ShowLoadingAnimation(
    grpc::CallbackServerContext* context, const v1::ShowLoadingAnimationRequest* request,
    v1::ShowLoadingAnimationResponse*) {
  return gate_->Blocking(context,
                         {"ShowLoadingAnimation", request->team_id(), request->channel_id()},
                         ValidateShowLoadingAnimation(*request), Access::kTeam,
                         [this, request](const CallContext& call) -> absl::Status {
                           return outbound_->ShowLoadingAnimation(
                               request->team_id(), request->channel_id(), request->chat_id(),
                               request->loading_seconds(), call);
                         });
}

grpc::ServerWriteReactor<v1::MessageContentChunk>* GrpcChannelService::GetMessageContent(
    grpc::CallbackServerContext* context, const v1::GetMessageContentRequest* request) {
  const RpcGate::Rpc rpc{"GetMessageContent", request->team_id(), request->channel_id()};
  absl::StatusOr<CallContext> call =
      gate_->Admit(context, rpc, ValidateGetMessageContent(*request), Access::kTeam);
  if (!call.ok()) return new RefusedStream<v1::MessageContentChunk>(ToGrpcStatus(call.status()));
  if (open_content_streams_.fetch_add(1) >= kMaxContentStreams) {
    open_content_streams_.fetch_sub(1);
    return new RefusedStream<v1::MessageContentChunk>(ToGrpcStatus(gate_->RefuseOverloaded(
        context, rpc, *call, "too many content downloads are running on this server; retry shortly",
        absl::Seconds(2))));
  }
  auto* stream = new ContentStream(
      executor_,
      [this, team_id = request->team_id(), channel_id = request->channel_id(),
       message_id = request->message_id(),
       call = *call](const LineMessagingApi::ContentSink& sink) {
        return outbound_->GetContent(team_id, channel_id, message_id, sink, call);
      },
      [this] { open_content_streams_.fetch_sub(1); });
  stream->Begin();
  return stream;
}

}  // namespace linechannel::server
