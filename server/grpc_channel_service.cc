#include "server/grpc_channel_service.h"

#include <string>
#include <utility>

#include "absl/time/clock.h"
#include "server/channel_proto.h"
#include "server/errors.h"
#include "server/event_stream.h"
#include "server/grpc_status.h"
#include "server/logger.h"
#include "server/request_validation.h"

namespace linechannel::server {

GrpcChannelService::GrpcChannelService(BindingService* bindings, storage::EventStore* events,
                                       EventNotifier* notifier, Executor* executor)
    : bindings_(bindings), events_(events), notifier_(notifier), executor_(executor) {}

CallContext GrpcChannelService::MakeCallContext(grpc::CallbackServerContext* context) {
  CallContext call;
  call.deadline = absl::FromChrono(context->deadline());
  return call;
}

void GrpcChannelService::Finish(grpc::ServerUnaryReactor* reactor,
                                grpc::CallbackServerContext* context, const RpcInfo& info,
                                absl::Time start, const absl::Status& status) {
  const absl::Status reasoned = WithReason(status);
  {
    LogLine line(status.ok() ? LogLevel::kInfo : LogLevel::kWarning, "rpc");
    line.With("method", info.method)
        .With("peer", context->peer())
        .With("latency_ms", absl::Now() - start);
    if (!info.team_id.empty()) line.With("team_id", info.team_id);
    if (!info.channel_id.empty()) line.With("channel_id", info.channel_id);
    line.WithStatus(reasoned);
    if (const auto reason = ErrorReason(reasoned)) line.With("reason", *reason);
  }
  // The request and response die once the RPC is finished: log first.
  reactor->Finish(ToGrpcStatus(reasoned));
}

grpc::ServerUnaryReactor* GrpcChannelService::RunInline(
    grpc::CallbackServerContext* context, RpcInfo info,
    const std::function<absl::Status()>& work) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, context, info, start, work());
  return reactor;
}

grpc::ServerUnaryReactor* GrpcChannelService::RunBlocking(
    grpc::CallbackServerContext* context, RpcInfo info,
    std::function<absl::Status(const CallContext&)> work) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const bool scheduled =
      executor_->TrySchedule([this, context, reactor, info, start, work = std::move(work)] {
        if (context->IsCancelled()) {
          Finish(reactor, context, info, start,
                 ReasonedError(absl::StatusCode::kCancelled, reason::kCancelled,
                               "the caller cancelled the request before it started"));
          return;
        }
        Finish(reactor, context, info, start, work(MakeCallContext(context)));
      });
  if (!scheduled) {
    Finish(reactor, context, info, start,
           WithRetryDelay(ReasonedError(absl::StatusCode::kResourceExhausted, reason::kOverloaded,
                                        "the server is busy with other requests; retry shortly"),
                          absl::Seconds(1)));
  }
  return reactor;
}

absl::StatusOr<storage::Binding> GrpcChannelService::Get(const std::string& team_id,
                                                         const std::string& channel_id) {
  if (absl::Status valid = ValidateBindingRef(team_id, channel_id); !valid.ok()) return valid;
  return bindings_->Get(team_id, channel_id);
}

grpc::ServerUnaryReactor* GrpcChannelService::BindChannel(grpc::CallbackServerContext* context,
                                                          const v1::BindChannelRequest* request,
                                                          v1::BindChannelResponse* response) {
  const RpcInfo info{"BindChannel", request->team_id(), request->channel_id()};
  if (absl::Status valid = ValidateBindChannel(*request); !valid.ok()) {
    return RunInline(context, info, [&] { return valid; });
  }
  return RunBlocking(context, info, [this, request, response](const CallContext& call) {
    BindRequest bind;
    bind.team_id = request->team_id();
    bind.app_name = request->app_name();
    bind.channel_id = request->channel_id();
    bind.channel_secret = Secret(request->channel_secret());
    bind.access_token = Secret(request->channel_access_token());
    bind.line_id = request->line_id();
    bind.set_webhook_url = request->set_webhook_url();
    bind.overwrite_webhook_url = request->overwrite_webhook_url();
    absl::StatusOr<BindResult> result = bindings_->Bind(bind, call);
    if (!result.ok()) return result.status();
    ToChannelProto(result->binding, bindings_->WebhookUrl(result->binding),
                   response->mutable_channel());
    response->set_already_bound(result->already_bound);
    *response->mutable_webhook_setup() = std::move(result->webhook_setup);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcChannelService::UnbindChannel(
    grpc::CallbackServerContext* context, const v1::UnbindChannelRequest* request,
    v1::UnbindChannelResponse* response) {
  const RpcInfo info{"UnbindChannel", request->team_id(), request->channel_id()};
  if (absl::Status valid = ValidateBindingRef(request->team_id(), request->channel_id());
      !valid.ok()) {
    return RunInline(context, info, [&] { return valid; });
  }
  return RunBlocking(context, info, [this, request, response](const CallContext& call) {
    absl::StatusOr<UnbindResult> unbound =
        bindings_->Unbind(request->team_id(), request->channel_id(), call);
    if (!unbound.ok()) return unbound.status();
    ToChannelProto(unbound->binding, bindings_->WebhookUrl(unbound->binding),
                   response->mutable_channel());
    *response->mutable_retired_url() = std::move(unbound->retired_url);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcChannelService::GetWebhookUrl(
    grpc::CallbackServerContext* context, const v1::GetWebhookUrlRequest* request,
    v1::GetWebhookUrlResponse* response) {
  const RpcInfo info{"GetWebhookUrl", request->team_id(), request->channel_id()};
  return RunInline(context, info, [&]() -> absl::Status {
    absl::StatusOr<storage::Binding> binding = Get(request->team_id(), request->channel_id());
    if (!binding.ok()) return binding.status();
    response->set_webhook_url(bindings_->WebhookUrl(*binding));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcChannelService::VerifyWebhook(
    grpc::CallbackServerContext* context, const v1::VerifyWebhookRequest* request,
    v1::VerifyWebhookResponse* response) {
  const RpcInfo info{"VerifyWebhook", request->team_id(), request->channel_id()};
  if (absl::Status valid = ValidateBindingRef(request->team_id(), request->channel_id());
      !valid.ok()) {
    return RunInline(context, info, [&] { return valid; });
  }
  return RunBlocking(context, info, [this, request, response](const CallContext& call) {
    absl::StatusOr<v1::VerifyWebhookResponse> verified =
        bindings_->VerifyWebhook(request->team_id(), request->channel_id(), call);
    if (!verified.ok()) return verified.status();
    *response = *std::move(verified);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcChannelService::GetChannel(grpc::CallbackServerContext* context,
                                                         const v1::GetChannelRequest* request,
                                                         v1::Channel* response) {
  const RpcInfo info{"GetChannel", request->team_id(), request->channel_id()};
  return RunInline(context, info, [&]() -> absl::Status {
    absl::StatusOr<storage::Binding> binding = Get(request->team_id(), request->channel_id());
    if (!binding.ok()) return binding.status();
    ToChannelProto(*binding, bindings_->WebhookUrl(*binding), response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcChannelService::ListChannels(
    grpc::CallbackServerContext* context, const v1::ListChannelsRequest* request,
    v1::ListChannelsResponse* response) {
  const RpcInfo info{"ListChannels", request->team_id(), ""};
  return RunInline(context, info, [&]() -> absl::Status {
    if (absl::Status valid = ValidateListChannels(*request); !valid.ok()) return valid;
    int64_t after_row_id = 0;
    if (!request->page_token().empty()) DecodePageToken(request->page_token(), &after_row_id);
    const int page_size = request->page_size() == 0 ? kDefaultPageSize : request->page_size();
    absl::StatusOr<storage::BindingPage> page =
        bindings_->List(request->team_id(), request->include_unbound(), request->state(),
                        after_row_id, page_size);
    if (!page.ok()) return page.status();
    for (const storage::Binding& binding : page->bindings) {
      ToChannelProto(binding, bindings_->WebhookUrl(binding), response->add_channels());
    }
    if (page->next_after_row_id != 0) {
      response->set_next_page_token(EncodePageToken(page->next_after_row_id));
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* GrpcChannelService::UpdateCredentials(
    grpc::CallbackServerContext* context, const v1::UpdateCredentialsRequest* request,
    v1::UpdateCredentialsResponse* response) {
  const RpcInfo info{"UpdateCredentials", request->team_id(), request->channel_id()};
  if (absl::Status valid = ValidateUpdateCredentials(*request); !valid.ok()) {
    return RunInline(context, info, [&] { return valid; });
  }
  return RunBlocking(context, info, [this, request, response](const CallContext& call) {
    CredentialsRequest update;
    update.team_id = request->team_id();
    update.channel_id = request->channel_id();
    if (!request->channel_secret().empty()) {
      update.channel_secret = Secret(request->channel_secret());
    }
    if (!request->channel_access_token().empty()) {
      update.access_token = Secret(request->channel_access_token());
    }
    absl::StatusOr<storage::Binding> updated = bindings_->UpdateCredentials(update, call);
    if (!updated.ok()) return updated.status();
    ToChannelProto(*updated, bindings_->WebhookUrl(*updated), response->mutable_channel());
    return absl::OkStatus();
  });
}

}  // namespace linechannel::server

namespace linechannel::server {

grpc::ServerWriteReactor<v1::Event>* GrpcChannelService::StreamEvents(
    grpc::CallbackServerContext* context, const v1::StreamEventsRequest* request) {
  const absl::Status valid = ValidateEventQuery(request->team_id(), request->channel_id(),
                                                request->after_cursor(), 0);
  LogLine(valid.ok() ? LogLevel::kInfo : LogLevel::kWarning, "rpc")
      .With("method", "StreamEvents")
      .With("peer", context->peer())
      .With("team_id", request->team_id())
      .With("after_cursor", request->after_cursor())
      .WithStatus(valid);
  if (!valid.ok()) {
    // A stream that ends at once with the validation error.
    class Refused : public grpc::ServerWriteReactor<v1::Event> {
     public:
      explicit Refused(const grpc::Status& status) { Finish(status); }
      void OnDone() override { delete this; }
    };
    return new Refused(ToGrpcStatus(valid));
  }
  storage::EventQuery query;
  query.team_id = request->team_id();
  query.channel_id = request->channel_id();
  query.after_cursor = request->after_cursor();
  query.limit = 256;
  auto* stream = new EventStream(events_, notifier_, executor_, std::move(query));
  stream->Begin();
  return stream;
}

grpc::ServerUnaryReactor* GrpcChannelService::ListEvents(grpc::CallbackServerContext* context,
                                                         const v1::ListEventsRequest* request,
                                                         v1::ListEventsResponse* response) {
  const RpcInfo info{"ListEvents", request->team_id(), request->channel_id()};
  return RunInline(context, info, [&]() -> absl::Status {
    if (absl::Status valid = ValidateEventQuery(request->team_id(), request->channel_id(),
                                                request->after_cursor(), request->page_size());
        !valid.ok()) {
      return valid;
    }
    storage::EventQuery query;
    query.team_id = request->team_id();
    query.channel_id = request->channel_id();
    query.after_cursor = request->after_cursor();
    query.limit = request->page_size() == 0 ? kDefaultPageSize : request->page_size();
    absl::StatusOr<std::vector<storage::StoredEvent>> events = events_->ReadEvents(query);
    if (!events.ok()) return WithReason(events.status());
    for (const storage::StoredEvent& event : *events) {
      ToEventProto(event, response->add_events());
    }
    response->set_next_cursor(events->empty() ? request->after_cursor()
                                              : events->back().cursor);
    return absl::OkStatus();
  });
}

}  // namespace linechannel::server
