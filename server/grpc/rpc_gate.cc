#include "server/grpc/rpc_gate.h"

#include <optional>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "server/base/errors.h"
#include "server/base/logger.h"
#include "server/grpc/grpc_status.h"

namespace linechannel::server {
namespace {

constexpr char kAuthorization[] = "authorization";

// Not secret, only unique enough to find a request's log line. 64 random bits as 11 URL-safe
// base64 characters rather than 16 hex digits: short enough for std::string's inline buffer,
// so that the id made for every RPC allocates nothing.
std::string NewRequestId() {
  thread_local absl::BitGen bits;
  const uint64_t id = absl::Uniform<uint64_t>(bits);
  return absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(&id), sizeof(id)));
}

// The bearer token of the call, if it sent one: a view into the call's metadata.
std::optional<absl::string_view> BearerToken(const grpc::CallbackServerContext* context) {
  const auto& metadata = context->client_metadata();
  const auto it = metadata.find(kAuthorization);
  if (it == metadata.end()) return std::nullopt;
  absl::string_view value(it->second.data(), it->second.size());
  value = absl::StripAsciiWhitespace(value);
  if (!absl::StartsWithIgnoreCase(value, "bearer ")) return std::nullopt;
  return absl::StripAsciiWhitespace(value.substr(7));
}

}  // namespace

RpcGate::RpcGate(const CallerDirectory* callers, Executor* executor, Metrics* metrics)
    : callers_(callers), executor_(executor), metrics_(metrics) {}

void RpcGate::StopAdmitting() {
  absl::MutexLock lock(&mu_);
  admitting_ = false;
}

bool RpcGate::WaitIdle(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(absl::Condition(
                                   +[](int* running) { return *running == 0; }, &running_),
                               deadline);
}

void RpcGate::Enter() {
  absl::MutexLock lock(&mu_);
  ++running_;
}

void RpcGate::Leave() {
  absl::MutexLock lock(&mu_);
  --running_;
}

CallContext RpcGate::NewCall(const grpc::CallbackServerContext* context) {
  CallContext call;
  call.deadline = absl::FromChrono(context->deadline());
  call.request_id = NewRequestId();
  return call;
}

absl::Status RpcGate::Check(grpc::CallbackServerContext* context, const Rpc& rpc,
                            const absl::Status& validation, Access access, CallContext* call) {
  {
    absl::MutexLock lock(&mu_);
    if (!admitting_) {
      return WithRetryDelay(
          ReasonedError(absl::StatusCode::kUnavailable, reason::kShuttingDown,
                        "the server is shutting down; retry (on another instance)"),
          absl::Seconds(1));
    }
  }
  const std::optional<absl::string_view> token = BearerToken(context);
  if (!token) {
    return ReasonedError(absl::StatusCode::kUnauthenticated, reason::kUnauthenticated,
                         "this RPC needs a caller token: send metadata "
                         "\"authorization: Bearer <token>\"");
  }
  absl::Status refused;
  callers_->WithCallers([&](const CallerList& callers) {
    const Caller* caller = callers.Authenticate(*token);
    if (caller == nullptr) {
      refused = ReasonedError(absl::StatusCode::kUnauthenticated, reason::kUnauthenticated,
                              "the caller token is not known to this server");
      return;
    }
    call->actor = caller->name;
    if (!validation.ok()) {
      refused = validation;
    } else if (access == Access::kAdmin && !caller->admin) {
      refused = ReasonedError(absl::StatusCode::kPermissionDenied, reason::kAdminOnly,
                              absl::StrCat("caller ", caller->name, " may not use admin RPCs"));
    } else if (access == Access::kTeam && !caller->MayActFor(rpc.team_id)) {
      refused = ReasonedError(
          absl::StatusCode::kPermissionDenied, reason::kTeamNotAllowed,
          absl::StrCat("caller ", caller->name, " may not act for team ", rpc.team_id));
    }
  });
  return refused;
}

absl::Status RpcGate::Record(grpc::CallbackServerContext* context, const Rpc& rpc,
                             const CallContext& call, absl::Time start,
                             const absl::Status& status) {
  absl::Status reasoned = WithReason(status);
  const absl::Duration latency = absl::Now() - start;
  metrics_->RecordRpc(rpc.method, reasoned.code(), latency);
  {
    LogLine line(status.ok() ? LogLevel::kInfo : LogLevel::kWarning, "rpc");
    line.With("method", rpc.method)
        .With("request_id", call.request_id)
        .With("caller", call.actor)
        .With("peer", context->peer())
        .With("latency_ms", latency);
    if (!rpc.team_id.empty()) line.With("team_id", rpc.team_id);
    if (!rpc.channel_id.empty()) line.With("channel_id", rpc.channel_id);
    if (!reasoned.ok()) {
      line.WithStatus(reasoned);
      if (const auto reason = ErrorReason(reasoned)) line.With("reason", *reason);
    }
  }
  // In the trailers rather than the headers: an error then stays a trailers-only answer,
  // which gRPC's client retry policies may still retry (headers would commit the call).
  context->AddTrailingMetadata("x-request-id", call.request_id);
  return reasoned;
}

void RpcGate::Finish(grpc::ServerUnaryReactor* reactor, grpc::CallbackServerContext* context,
                     const Rpc& rpc, const CallContext& call, absl::Time start,
                     const absl::Status& status) {
  // The request and response die once the RPC is finished: record (log) first.
  reactor->Finish(ToGrpcStatus(Record(context, rpc, call, start, status)));
  Leave();
}

absl::StatusOr<CallContext> RpcGate::Admit(grpc::CallbackServerContext* context, const Rpc& rpc,
                                           const absl::Status& validation, Access access) {
  const absl::Time start = absl::Now();
  CallContext call = NewCall(context);
  const absl::Status refused = Check(context, rpc, validation, access, &call);
  if (refused.ok()) return call;
  return Record(context, rpc, call, start, refused);
}

absl::Status RpcGate::RefuseOverloaded(grpc::CallbackServerContext* context, const Rpc& rpc,
                                       const CallContext& call, absl::string_view why,
                                       absl::Duration retry_after) {
  return Record(
      context, rpc, call, absl::Now(),
      WithRetryDelay(ReasonedError(absl::StatusCode::kResourceExhausted, reason::kOverloaded, why),
                     retry_after));
}

grpc::ServerUnaryReactor* RpcGate::Start(
    grpc::CallbackServerContext* context, const Rpc& rpc, const absl::Status& validation,
    Access access,
    absl::FunctionRef<void(grpc::ServerUnaryReactor*, const CallContext&, absl::Time)> admitted) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Enter();
  CallContext call = NewCall(context);
  const absl::Status refused = Check(context, rpc, validation, access, &call);
  if (refused.ok()) {
    admitted(reactor, call, start);
  } else {
    Finish(reactor, context, rpc, call, start, refused);
  }
  return reactor;
}

grpc::ServerUnaryReactor* RpcGate::Inline(grpc::CallbackServerContext* context, const Rpc& rpc,
                                          const absl::Status& validation, Access access,
                                          InlineWork work) {
  return Start(context, rpc, validation, access,
               [&](grpc::ServerUnaryReactor* reactor, const CallContext& call, absl::Time start) {
                 Finish(reactor, context, rpc, call, start, work(call));
               });
}

grpc::ServerUnaryReactor* RpcGate::Blocking(grpc::CallbackServerContext* context, const Rpc& rpc,
                                            const absl::Status& validation, Access access,
                                            Work work) {
  return Start(context, rpc, validation, access,
               [&](grpc::ServerUnaryReactor* reactor, const CallContext& call, absl::Time start) {
                 Schedule(reactor, context, rpc, call, start, std::move(work));
               });
}

void RpcGate::Schedule(grpc::ServerUnaryReactor* reactor, grpc::CallbackServerContext* context,
                       const Rpc& rpc, const CallContext& call, absl::Time start, Work work) {
  const bool scheduled =
      executor_->TrySchedule([this, context, reactor, rpc, call, start, work = std::move(work)] {
        if (context->IsCancelled()) {
          Finish(reactor, context, rpc, call, start,
                 ReasonedError(absl::StatusCode::kCancelled, reason::kCancelled,
                               "the caller cancelled the request before it started"));
          return;
        }
        if (absl::Now() >= call.deadline) {
          Finish(reactor, context, rpc, call, start,
                 ReasonedError(absl::StatusCode::kDeadlineExceeded, reason::kDeadlineExceeded,
                               "the request's deadline passed while it waited for a worker"));
          return;
        }
        Finish(reactor, context, rpc, call, start, work(call));
      });
  if (!scheduled) {
    Finish(reactor, context, rpc, call, start,
           WithRetryDelay(ReasonedError(absl::StatusCode::kResourceExhausted, reason::kOverloaded,
                                        "the server is busy with other requests; retry shortly"),
                          absl::Seconds(1)));
  }
}

}  // namespace linechannel::server
