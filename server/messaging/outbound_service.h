#ifndef LINECHANNEL_SERVER_MESSAGING_OUTBOUND_SERVICE_H_
#define LINECHANNEL_SERVER_MESSAGING_OUTBOUND_SERVICE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/base/call_context.h"
#include "server/base/clock.h"
#include "server/base/metrics.h"
#include "server/binding/binding_service.h"
#include "server/crypto/secret_sealer.h"
#include "server/line/line_messaging_api.h"
#include "server/messaging/outbound_limiter.h"
#include "server/messaging/push_sender.h"
#include "storage/push_outbox.h"

namespace linechannel::server {

// A reply, as RPCs ask for it (already validated).
struct ReplyCommand {
  std::string team_id;
  std::string channel_id;
  std::string reply_token;
  std::vector<std::string> messages;
  bool notification_disabled = false;
};

// A push, as RPCs ask for it (already validated).
struct PushCommand {
  std::string team_id;
  std::string channel_id;
  std::string to;
  std::vector<std::string> messages;
  bool notification_disabled = false;
  std::string request_id;
};

struct PushAnswer {
  storage::PushRecord push;
  // False when the request id was known already: nothing new was sent.
  bool created = false;
};

// Everything internal services do with LINE through a team's bound OA: the binding is found
// for the team (NOT_FOUND BINDING_NOT_FOUND as BindingService::Get), its share of outbound
// calls taken (OutboundLimiter), its access token unsealed for the one call and never handed
// out. LINE's errors come back with the reasons of line_messaging_api.h, except that a rejected
// token is FAILED_PRECONDITION TOKEN_REJECTED and marks the binding (line_call.h). Every call
// is counted in metrics; message text and content are never logged. Thread-safe.
class OutboundService {
 public:
  struct Options {
    // One call to LINE (content downloads: `content_timeout`).
    absl::Duration call_timeout = absl::Seconds(10);
    absl::Duration content_timeout = absl::Minutes(10);
  };

  OutboundService(BindingService* bindings, storage::BindingStore* binding_store,
                  storage::PushOutbox* outbox, PushSender* sender, LineMessagingApi* line,
                  const SecretSealer* sealer, OutboundLimiter* limiter, const Clock* clock,
                  Metrics* metrics, Options options);

  // Sent once or not at all: never retried, since LINE takes a reply token once. UNKNOWN
  // OUTCOME_UNKNOWN when LINE may have sent it.
  absl::StatusOr<LineSendResult> Reply(const ReplyCommand& command, const CallContext& call);

  // Stores the push, then makes its first attempt before answering (PushSender). A known
  // request id answers where that push stands. A push that ended FAILED is answered with its
  // error (the same for every repeat); FAILED_PRECONDITION REQUEST_ID_REUSED when the request
  // id was used for a different push.
  absl::StatusOr<PushAnswer> Push(const PushCommand& command, const CallContext& call);

  // NOT_FOUND PUSH_NOT_FOUND when the binding has no such push.
  absl::StatusOr<storage::PushRecord> GetPush(absl::string_view team_id,
                                              absl::string_view channel_id,
                                              absl::string_view request_id);

  absl::StatusOr<LineProfile> GetProfile(absl::string_view team_id, absl::string_view channel_id,
                                         const std::string& user_id,
                                         const std::string& group_or_room_id,
                                         const CallContext& call);

  absl::StatusOr<LineQuota> GetQuota(absl::string_view team_id, absl::string_view channel_id,
                                     const CallContext& call);

  absl::Status MarkAsRead(absl::string_view team_id, absl::string_view channel_id,
                          const std::string& mark_as_read_token, const CallContext& call);

  absl::Status ShowLoadingAnimation(absl::string_view team_id, absl::string_view channel_id,
                                    const std::string& chat_id, int loading_seconds,
                                    const CallContext& call);

  // Streams the content into `sink` as it arrives (LineMessagingApi::GetContent).
  absl::Status GetContent(absl::string_view team_id, absl::string_view channel_id,
                          const std::string& message_id, const LineMessagingApi::ContentSink& sink,
                          const CallContext& call);

  // The error a push that ended FAILED is answered with.
  static absl::Status FailedPushError(const storage::PushRecord& push);

 private:
  // What every call but GetPush does first: the binding, a permit and the token.
  struct Prepared;
  absl::StatusOr<Prepared> Prepare(absl::string_view team_id, absl::string_view channel_id);
  // Runs `call` as outbound call `name`, timing and counting it, and answers LINE's refusals.
  template <typename Result, typename Call>
  Result Run(absl::string_view name, const storage::Binding& binding, Call call);

  BindingService* const bindings_;
  storage::BindingStore* const binding_store_;
  storage::PushOutbox* const outbox_;
  PushSender* const sender_;
  LineMessagingApi* const line_;
  const SecretSealer* const sealer_;
  OutboundLimiter* const limiter_;
  const Clock* const clock_;
  Metrics* const metrics_;
  const Options options_;
};

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_MESSAGING_OUTBOUND_SERVICE_H_
