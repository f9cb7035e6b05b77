#ifndef LINECHANNEL_SERVER_GRPC_CHANNEL_SERVICE_H_
#define LINECHANNEL_SERVER_GRPC_CHANNEL_SERVICE_H_

#include <functional>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "linechannel/v1/channel_service.grpc.pb.h"
#include "server/binding_service.h"
#include "server/event_notifier.h"
#include "server/executor.h"
#include "storage/event_store.h"

namespace linechannel::server {

// The gRPC edge of ChannelService: validates requests, turns them into domain calls, and
// domain results into responses and grpc::Status (through ToGrpcStatus). Work that may block
// (LINE calls, commits) runs on `executor`; quick reads run on gRPC's own threads. Every RPC is
// logged once with its outcome and latency. Thread-safe.
class GrpcChannelService final : public v1::ChannelService::CallbackService {
 public:
  GrpcChannelService(BindingService* bindings, storage::EventStore* events,
                     EventNotifier* notifier, Executor* executor);

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
  grpc::ServerWriteReactor<v1::Event>* StreamEvents(
      grpc::CallbackServerContext* context, const v1::StreamEventsRequest* request) override;
  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* context,
                                       const v1::ListEventsRequest* request,
                                       v1::ListEventsResponse* response) override;

 private:
  // What an RPC is about, for its log line.
  struct RpcInfo {
    absl::string_view method;
    absl::string_view team_id;
    absl::string_view channel_id;
  };

  // Finishes the RPC now with `work()`'s status.
  grpc::ServerUnaryReactor* RunInline(grpc::CallbackServerContext* context, RpcInfo info,
                                      const std::function<absl::Status()>& work);
  // Runs `work` on the executor and finishes the RPC with its status; RESOURCE_EXHAUSTED at
  // once when the executor is full, CANCELLED if the caller gave up before it started.
  grpc::ServerUnaryReactor* RunBlocking(grpc::CallbackServerContext* context, RpcInfo info,
                                        std::function<absl::Status(const CallContext&)> work);
  // The team's active binding of the channel, after checking the two names.
  absl::StatusOr<storage::Binding> Get(const std::string& team_id, const std::string& channel_id);
  static CallContext MakeCallContext(grpc::CallbackServerContext* context);
  static void Finish(grpc::ServerUnaryReactor* reactor, grpc::CallbackServerContext* context,
                     const RpcInfo& info, absl::Time start, const absl::Status& status);

  BindingService* const bindings_;
  storage::EventStore* const events_;
  EventNotifier* const notifier_;
  Executor* const executor_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_CHANNEL_SERVICE_H_
