#ifndef LINECHANNEL_SERVER_GRPC_GRPC_CHANNEL_SERVICE_H_
#define LINECHANNEL_SERVER_GRPC_GRPC_CHANNEL_SERVICE_H_

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "linechannel/v1/channel_service.grpc.pb.h"
#include "server/binding/binding_service.h"
#include "server/messaging/outbound_service.h"
#include "server/webhook/event_notifier.h"
#include "server/base/executor.h"
#include "server/grpc/arena_messages.h"
#include "server/grpc/rpc_gate.h"
#include "storage/event_store.h"

namespace linechannel::server {

// The gRPC edge of ChannelService: every RPC through the RpcGate (caller, request check,
// team), then the domain call, and the domain result into the response. Thread-safe.
class GrpcChannelService final : public v1::ChannelService::CallbackService {
 public:
  GrpcChannelService(RpcGate* gate, BindingService* bindings, OutboundService* outbound,
                     storage::EventStore* events, EventNotifier* notifier, Executor* executor,
                     int max_event_streams);

  grpc::ServerUnaryReactor* BindChannel(grpc::CallbackServerContext* context,
                                        const v1::BindChannelRequest* request,
                                        v1::BindChannelResponse* response) override;
  grpc::ServerUnaryReactor* UnbindChannel(grpc::CallbackServerContext* context,
                                          const v1::UnbindChannelRequest* request,
                                          v1::UnbindChannelResponse* response) override;
  grpc::ServerUnaryReactor* GetWebhookUrl(grpc::CallbackServerContext* context,
                                          const v1::GetWebhookUrlRequest* request,
                                          v1::GetWebhookUrlResponse* response) override;
  grpc::ServerUnaryReactor* VerifyWebhook(grpc::CallbackServerContext* context,
                                          const v1::VerifyWebhookRequest* request,
                                          v1::VerifyWebhookResponse* response) override;
  grpc::ServerUnaryReactor* GetChannel(grpc::CallbackServerContext* context,
                                       const v1::GetChannelRequest* request,
                                       v1::Channel* response) override;
  grpc::ServerUnaryReactor* ListChannels(grpc::CallbackServerContext* context,
                                         const v1::ListChannelsRequest* request,
                                         v1::ListChannelsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateCredentials(grpc::CallbackServerContext* context,
                                              const v1::UpdateCredentialsRequest* request,
                                              v1::UpdateCredentialsResponse* response) override;
  grpc::ServerUnaryReactor* ListAuditEntries(grpc::CallbackServerContext* context,
                                             const v1::ListAuditEntriesRequest* request,
                                             v1::ListAuditEntriesResponse* response) override;
  grpc::ServerWriteReactor<v1::Event>* StreamEvents(
      grpc::CallbackServerContext* context, const v1::StreamEventsRequest* request) override;
  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* context,
                                       const v1::ListEventsRequest* request,
                                       v1::ListEventsResponse* response) override;

  // The outbound RPCs (grpc_outbound_rpcs.cc).
  grpc::ServerUnaryReactor* ReplyMessage(grpc::CallbackServerContext* context,
                                         const v1::ReplyMessageRequest* request,
                                         v1::ReplyMessageResponse* response) override;
  grpc::ServerUnaryReactor* PushMessage(grpc::CallbackServerContext* context,
                                        const v1::PushMessageRequest* request,
                                        v1::PushMessageResponse* response) override;
  grpc::ServerUnaryReactor* GetPush(grpc::CallbackServerContext* context,
                                    const v1::GetPushRequest* request,
                                    v1::Push* response) override;
  grpc::ServerUnaryReactor* GetProfile(grpc::CallbackServerContext* context,
                                       const v1::GetProfileRequest* request,
                                       v1::Profile* response) override;
  grpc::ServerWriteReactor<v1::MessageContentChunk>* GetMessageContent(
      grpc::CallbackServerContext* context, const v1::GetMessageContentRequest* request) override;
  grpc::ServerUnaryReactor* GetMessageQuota(grpc::CallbackServerContext* context,
                                            const v1::GetMessageQuotaRequest* request,
                                            v1::MessageQuota* response) override;
  grpc::ServerUnaryReactor* MarkAsRead(grpc::CallbackServerContext* context,
                                       const v1::MarkAsReadRequest* request,
                                       v1::MarkAsReadResponse* response) override;
  grpc::ServerUnaryReactor* ShowLoadingAnimation(grpc::CallbackServerContext* context,
                                                 const v1::ShowLoadingAnimationRequest* request,
                                                 v1::ShowLoadingAnimationResponse* response) override;

 private:
  // Content downloads hold an executor thread each; at most this many run at once, so they
  // never take every thread from the other RPCs.
  static constexpr int kMaxContentStreams = 8;

  // The read RPCs' messages (see GrpcChannelService's constructor).
  ArenaMessages<v1::GetWebhookUrlRequest, v1::GetWebhookUrlResponse> get_webhook_url_messages_;
  ArenaMessages<v1::GetChannelRequest, v1::Channel> get_channel_messages_;

  RpcGate* const gate_;
  BindingService* const bindings_;
  OutboundService* const outbound_;
  storage::EventStore* const events_;
  EventNotifier* const notifier_;
  Executor* const executor_;
  const int max_event_streams_;
  std::atomic<int> open_event_streams_{0};
  std::atomic<int> open_content_streams_{0};
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_GRPC_CHANNEL_SERVICE_H_
