#ifndef LINECHANNEL_SERVER_GRPC_RPC_GATE_H_
#define LINECHANNEL_SERVER_GRPC_RPC_GATE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/base/call_context.h"
#include "server/base/executor.h"
#include "server/base/metrics.h"
#include "server/grpc/callers.h"

namespace linechannel::server {

// What every RPC of our services goes through at the gRPC edge: the caller's bearer token,
// the request's own check, the caller's right to act for the team (or to use admin RPCs),
// then the work, inline or on the executor, and one log line and one metric sample with the
// outcome. Thread-safe.
//
// Order of refusals: UNAUTHENTICATED (no or unknown token), INVALID_ARGUMENT (the request),
// PERMISSION_DENIED (team not allowed, or not an admin).
class RpcGate {
 public:
  // What an RPC is about, for checks and logs. The views must live until the RPC finishes
  // (they point into the request).
  struct Rpc {
    absl::string_view method;
    absl::string_view team_id;
    absl::string_view channel_id;
  };
  enum class Access { kTeam, kAdmin };
  using Work = std::function<absl::Status(const CallContext&)>;

  RpcGate(const CallerDirectory* callers, Executor* executor, Metrics* metrics);

  // Quick work (reads): runs on gRPC's thread, before Inline returns (so it is taken by
  // reference: no copy of it is made).
  using InlineWork = absl::FunctionRef<absl::Status(const CallContext&)>;
  grpc::ServerUnaryReactor* Inline(grpc::CallbackServerContext* context, const Rpc& rpc,
                                   const absl::Status& validation, Access access, InlineWork work);
  // Work that may block (LINE, commits): runs on the executor. RESOURCE_EXHAUSTED at once
  // when the executor is full; CANCELLED if the caller gave up before it started.
  grpc::ServerUnaryReactor* Blocking(grpc::CallbackServerContext* context, const Rpc& rpc,
                                     const absl::Status& validation, Access access, Work work);

  // For streaming RPCs: the checks alone. Logs the refusal if there is one, and sends its
  // request id (x-request-id) with it.
  absl::StatusOr<CallContext> Admit(grpc::CallbackServerContext* context, const Rpc& rpc,
                                    const absl::Status& validation, Access access);
  // For a stream refused after Admit because too many are open: RESOURCE_EXHAUSTED
  // (OVERLOADED) saying `why`, retryable after `retry_after`, logged and sent with its request
  // id as Admit does with its own refusals.
  absl::Status RefuseOverloaded(grpc::CallbackServerContext* context, const Rpc& rpc,
                                const CallContext& call, absl::string_view why,
                                absl::Duration retry_after);

  // From now on every new RPC is refused with UNAVAILABLE (SHUTTING_DOWN, retryable
  // elsewhere); RPCs already admitted go on.
  void StopAdmitting();
  // Waits until no admitted unary RPC is running, or `deadline`; false on the deadline.
  bool WaitIdle(absl::Time deadline);

 private:
  // The call's deadline and a new request id: every RPC has one, refused ones included, so
  // that its answer (x-request-id) leads to its log line.
  static CallContext NewCall(const grpc::CallbackServerContext* context);
  // Why the RPC is refused, if it is; sets `call`'s actor once the caller is known.
  absl::Status Check(grpc::CallbackServerContext* context, const Rpc& rpc,
                     const absl::Status& validation, Access access, CallContext* call);
  // Admission common to unary RPCs: the checks, then `admitted` (which must end in Finish),
  // or Finish with the refusal.
  grpc::ServerUnaryReactor* Start(
      grpc::CallbackServerContext* context, const Rpc& rpc, const absl::Status& validation,
      Access access,
      absl::FunctionRef<void(grpc::ServerUnaryReactor*, const CallContext&, absl::Time)> admitted);
  void Schedule(grpc::ServerUnaryReactor* reactor, grpc::CallbackServerContext* context,
                const Rpc& rpc, const CallContext& call, absl::Time start, Work work);
  // The RPC's metric sample, log line and x-request-id (a trailer); returns `status` with its
  // reason.
  absl::Status Record(grpc::CallbackServerContext* context, const Rpc& rpc, const CallContext& call,
                      absl::Time start, const absl::Status& status);
  void Finish(grpc::ServerUnaryReactor* reactor, grpc::CallbackServerContext* context,
              const Rpc& rpc, const CallContext& call, absl::Time start,
              const absl::Status& status);

  // Counts the unary RPC from admission to Finish.
  void Enter();
  void Leave();

  const CallerDirectory* const callers_;
  Executor* const executor_;
  Metrics* const metrics_;
  absl::Mutex mu_;
  bool admitting_ ABSL_GUARDED_BY(mu_) = true;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_GRPC_RPC_GATE_H_
