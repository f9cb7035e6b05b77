#include "server/grpc/grpc_channel_service.h"

#include <string>
#include <utility>

#include "server/base/errors.h"
#include "server/grpc/answer.h"
#include "server/grpc/channel_proto.h"
#include "server/grpc/event_stream.h"
#include "server/grpc/grpc_status.h"
#include "server/grpc/refused_stream.h"
#include "server/grpc/request_validation.h"

namespace linechannel::server {
namespace {

using Access = RpcGate::Access;

}  // namespace

GrpcChannelService::GrpcChannelService(RpcGate* gate, BindingService* bindings,
                                       OutboundService* outbound, storage::EventStore* events,
                                       EventNotifier* notifier, Executor* executor,
                                       int max_event_streams)
    : gate_(gate),
      bindings_(bindings),
      outbound_(outbound),
      events_(events),
      notifier_(notifier),
      executor_(executor),
      max_event_streams_(max_event_streams) {
  // The most frequent calls: their messages are freed at once with the call's arena.
  SetMessageAllocatorFor_GetWebhookUrl(&get_webhook_url_messages_);
  SetMessageAllocatorFor_GetChannel(&get_channel_messages_);
}

grpc::ServerUnaryReactor* GrpcChannelService::BindChannel(grpc::CallbackServerContext* context,
                                                          const v1::BindChannelRequest* request,
                                                          v1::BindChannelResponse* response) {
  return gate_->Blocking(
      context, {"BindChannel", request->team_id(), request->channel_id()},
      ValidateBindChannel(*request), Access::kTeam,
      [this, request, response](const CallContext& call) -> absl::Status {
        BindRequest bind;
        bind.team_id = request->team_id();
        bind.app_name = request->app_name();
        bind.channel_id = request->channel_id();
        bind.channel_secret = Secret(request->channel_secret());
        bind.access_token = Secret(request->channel_access_token());
        bind.line_id = request->line_id();
        bind.set_webhook_url = request->set_webhook_url();
        bind.overwrite_webhook_url = request->overwrite_webhook_url();
        return Answer(bindings_->Bind(bind, call), [&](const BindResult& result) {
          ToChannelProto(result.binding, bindings_->WebhookUrl(result.binding),
                         response->mutable_channel());
          response->set_already_bound(result.already_bound);
          ToWebhookSetupProto(result.webhook_setup, response->mutable_webhook_setup());
        });
      });
}

grpc::ServerUnaryReactor* GrpcChannelService::UnbindChannel(grpc::CallbackServerContext* context,
                                                            const v1::UnbindChannelRequest* request,
                                                            v1::UnbindChannelResponse* response) {
  return gate_->Blocking(
      context, {"UnbindChannel", request->team_id(), request->channel_id()},
      ValidateBindingRef(request->team_id(), request->channel_id()), Access::kTeam,
      [this, request, response](const CallContext& call) -> absl::Status {
        UnbindRequest unbind{request->team_id(), request->channel_id(),
                             request->clear_webhook_url()};
        return Answer(bindings_->Unbind(unbind, call), [&](const UnbindResult& unbound) {
          ToChannelProto(unbound.binding, bindings_->WebhookUrl(unbound.binding),
                         response->mutable_channel());
          ToUnbindReportProto(unbound.line, response);
        });
      });
}

grpc::ServerUnaryReactor* GrpcChannelService::GetWebhookUrl(grpc::CallbackServerContext* context,
                                                            const v1::GetWebhookUrlRequest* request,
                                                            v1::GetWebhookUrlResponse* response) {
  return gate_->Inline(context, {"GetWebhookUrl", request->team_id(), request->channel_id()},
                       ValidateBindingRef(request->team_id(), request->channel_id()), Access::kTeam,
                       [&](const CallContext&) -> absl::Status {
                         return Answer(bindings_->Get(request->team_id(), request->channel_id()),
                                       [&](const storage::Binding& binding) {
                                         response->set_webhook_url(bindings_->WebhookUrl(binding));
                                       });
                       });
}

grpc::ServerUnaryReactor* GrpcChannelService::VerifyWebhook(grpc::CallbackServerContext* context,
                                                            const v1::VerifyWebhookRequest* request,
                                                            v1::VerifyWebhookResponse* response) {
  return gate_->Blocking(
      context, {"VerifyWebhook", request->team_id(), request->channel_id()},
      ValidateBindingRef(request->team_id(), request->channel_id()), Access::kTeam,
      [this, request, response](const CallContext& call) -> absl::Status {
        return Answer(
            bindings_->VerifyWebhook(request->team_id(), request->channel_id(), call),
            [&](const WebhookReport& verified) { ToVerifyWebhookProto(verified, response); });
      });
}

grpc::ServerUnaryReactor* GrpcChannelService::GetChannel(grpc::CallbackServerContext* context,
                                                         const v1::GetChannelRequest* request,
                                                         v1::Channel* response) {
  return gate_->Inline(context, {"GetChannel", request->team_id(), request->channel_id()},
                       ValidateBindingRef(request->team_id(), request->channel_id()), Access::kTeam,
                       [&](const CallContext&) -> absl::Status {
                         return Answer(bindings_->Get(request->team_id(), request->channel_id()),
                                       [&](const storage::Binding& binding) {
                                         ToChannelProto(binding, bindings_->WebhookUrl(binding),
                                                        response);
                                         ToChannelProto(bindings_->LastResponseSettings(binding),
                                                        response);
                                       });
                       });
}

grpc::ServerUnaryReactor* GrpcChannelService::ListChannels(grpc::CallbackServerContext* context,
                                                           const v1::ListChannelsRequest* request,
                                                           v1::ListChannelsResponse* response) {
  return gate_->Inline(
      context, {"ListChannels", request->team_id(), ""}, ValidateListChannels(*request),
      Access::kTeam, [&](const CallContext&) -> absl::Status {
        int64_t after_row_id = 0;
        if (!request->page_token().empty()) DecodePageToken(request->page_token(), &after_row_id);
        const int page_size = request->page_size() == 0 ? kDefaultPageSize : request->page_size();
        return Answer(
            bindings_->List(request->team_id(), request->include_unbound(),
                            FromBindingStateProto(request->state()), after_row_id, page_size),
            [&](const storage::BindingPage& page) {
              for (const storage::Binding& binding : page.bindings) {
                ToChannelProto(binding, bindings_->WebhookUrl(binding), response->add_channels());
              }
              if (page.next_after_row_id != 0) {
                response->set_next_page_token(EncodePageToken(page.next_after_row_id));
              }
            });
      });
}

grpc::ServerUnaryReactor* GrpcChannelService::UpdateCredentials(
    grpc::CallbackServerContext* context, const v1::UpdateCredentialsRequest* request,
    v1::UpdateCredentialsResponse* response) {
  return gate_->Blocking(context, {"UpdateCredentials", request->team_id(), request->channel_id()},
                         ValidateUpdateCredentials(*request), Access::kTeam,
                         [this, request, response](const CallContext& call) -> absl::Status {
                           CredentialsRequest update;
                           update.team_id = request->team_id();
                           update.channel_id = request->channel_id();
                           if (!request->channel_secret().empty()) {
                             update.channel_secret = Secret(request->channel_secret());
                           }
                           if (!request->channel_access_token().empty()) {
                             update.access_token = Secret(request->channel_access_token());
                           }
                           return Answer(bindings_->UpdateCredentials(update, call),
                                         [&](const storage::Binding& updated) {
                                           ToChannelProto(updated, bindings_->WebhookUrl(updated),
                                                          response->mutable_channel());
                                         });
                         });
}

grpc::ServerUnaryReactor* GrpcChannelService::ListAuditEntries(
    grpc::CallbackServerContext* context, const v1::ListAuditEntriesRequest* request,
    v1::ListAuditEntriesResponse* response) {
  return gate_->Inline(
      context, {"ListAuditEntries", request->team_id(), request->channel_id()},
      ValidateListAuditEntries(*request), Access::kTeam, [&](const CallContext&) -> absl::Status {
        int64_t before_id = 0;
        if (!request->page_token().empty()) {
          DecodeAuditPageToken(request->page_token(), &before_id);
        }
        const int page_size = request->page_size() == 0 ? kDefaultPageSize : request->page_size();
        return Answer(
            bindings_->ListAudit(request->team_id(), request->channel_id(), before_id, page_size),
            [&](const storage::AuditPage& page) {
              for (const storage::AuditRecord& record : page.records) {
                ToAuditEntryProto(record, response->add_entries());
              }
              if (page.next_before_id != 0) {
                response->set_next_page_token(EncodeAuditPageToken(page.next_before_id));
              }
            });
      });
}

grpc::ServerWriteReactor<v1::Event>* GrpcChannelService::StreamEvents(
    grpc::CallbackServerContext* context, const v1::StreamEventsRequest* request) {
  const RpcGate::Rpc rpc{"StreamEvents", request->team_id(), request->channel_id()};
  absl::StatusOr<CallContext> call = gate_->Admit(
      context, rpc,
      ValidateEventQuery(request->team_id(), request->channel_id(), request->after_cursor(), 0),
      Access::kTeam);
  if (!call.ok()) return new RefusedStream<v1::Event>(ToGrpcStatus(call.status()));
  if (open_event_streams_.fetch_add(1) >= max_event_streams_) {
    open_event_streams_.fetch_sub(1);
    return new RefusedStream<v1::Event>(ToGrpcStatus(gate_->RefuseOverloaded(
        context, rpc, *call, "too many event streams are open on this server; retry shortly",
        absl::Seconds(5))));
  }
  storage::EventQuery query;
  query.team_id = request->team_id();
  query.channel_id = request->channel_id();
  query.after_cursor = request->after_cursor();
  query.limit = 256;
  // The stream is woken when held-back events become readable; it need not wait for them.
  query.settle = absl::ZeroDuration();
  auto* stream = new EventStream(events_, notifier_, executor_, std::move(query),
                                 [this] { open_event_streams_.fetch_sub(1); });
  stream->Begin();
  return stream;
}

grpc::ServerUnaryReactor* GrpcChannelService::ListEvents(grpc::CallbackServerContext* context,
                                                         const v1::ListEventsRequest* request,
                                                         v1::ListEventsResponse* response) {
  return gate_->Inline(
      context, {"ListEvents", request->team_id(), request->channel_id()},
      ValidateEventQuery(request->team_id(), request->channel_id(), request->after_cursor(),
                         request->page_size()),
      Access::kTeam, [&](const CallContext&) -> absl::Status {
        storage::EventQuery query;
        query.team_id = request->team_id();
        query.channel_id = request->channel_id();
        query.after_cursor = request->after_cursor();
        query.limit = request->page_size() == 0 ? kDefaultPageSize : request->page_size();
        return Answer(events_->ReadEvents(query),
                      [&](const std::vector<storage::StoredEvent>& events) {
                        for (const storage::StoredEvent& event : events) {
                          ToEventProto(event, response->add_events());
                        }
                        response->set_next_cursor(events.empty() ? request->after_cursor()
                                                                 : events.back().cursor);
                      });
      });
}

}  // namespace linechannel::server
