#include "server/webhook/webhook_handler.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "server/base/logger.h"

namespace linechannel::server {
namespace {

constexpr size_t kMaxWebhookKeyLength = 64;
constexpr absl::string_view kWebhookPrefix = "/line/webhook/";

bool IsWebhookKey(absl::string_view key) {
  if (key.empty() || key.size() > kMaxWebhookKeyLength) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

HttpAnswer Plain(int status, absl::string_view message) {
  return HttpAnswer{status, absl::StrCat(message, "\n")};
}

std::vector<std::pair<std::string, std::string>> TargetFields(
    const WebhookReceiver::Target& target) {
  return {{"binding_id", target.binding_id},
          {"team_id", target.team_id},
          {"channel_id", target.channel_id}};
}

class ReceiveStep : public HttpHandler::BodyStep {
 public:
  ReceiveStep(WebhookReceiver* receiver, Metrics* metrics, WebhookReceiver::Target target)
      : receiver_(receiver), metrics_(metrics), target_(std::move(target)) {}

  void Run(std::string body, const HeaderLookup& headers,
           std::function<void(HttpAnswer)> done) override {
    // The receiver checks the signature before it returns, so the header view stays valid;
    // only the outcome may come later, from a storage thread.
    receiver_->Receive(
        target_, headers("x-line-signature"), std::move(body),
        [this, done = std::move(done)](WebhookReceiver::Outcome outcome) {
          HttpAnswer answer =
              Plain(outcome.http_status, outcome.http_status == 200 ? "OK" : outcome.message);
          answer.log_fields = TargetFields(target_);
          if (outcome.http_status == 200) {
            metrics_->RecordEvents(outcome.stored, outcome.duplicates);
            answer.log_fields.emplace_back("stored", absl::StrCat(outcome.stored));
            answer.log_fields.emplace_back("duplicates", absl::StrCat(outcome.duplicates));
          } else {
            if (outcome.http_status == 401) metrics_->RecordBadSignature(target_.binding_id);
            answer.log_fields.emplace_back("message", outcome.message);
          }
          done(std::move(answer));
        });
  }

 private:
  WebhookReceiver* const receiver_;
  Metrics* const metrics_;
  const WebhookReceiver::Target target_;
};

}  // namespace

HttpHandler::Decision WebhookHandler::OnHead(const HttpHead& head) {
  Decision decision;
  if (head.path == "/healthz") {
    decision.answer = head.method == "GET" ? Plain(200, "ok") : Plain(405, "use GET");
    return decision;
  }
  absl::string_view key = head.path;
  if (!absl::ConsumePrefix(&key, kWebhookPrefix)) {
    decision.answer = Plain(404, "no such path");
    return decision;
  }
  if (head.method != "POST") {
    decision.answer = Plain(405, "webhooks are POSTed");
    decision.answer->headers.emplace_back("Allow", "POST");
    return decision;
  }
  if (!IsWebhookKey(key)) {
    decision.answer = Plain(404, "unknown webhook URL");
    return decision;
  }
  absl::StatusOr<WebhookReceiver::Target> target = receiver_->Resolve(key);
  if (absl::IsNotFound(target.status())) {
    decision.answer = Plain(404, "unknown webhook URL");
  } else if (!target.ok()) {
    // The details (storage, keys) are for operators, not for whoever called the public port.
    LogLine(LogLevel::kWarning, "webhook_not_resolved").WithStatus(target.status());
    decision.answer = Plain(503, "temporarily unable to take webhooks; retry");
  } else {
    decision.body_step = std::make_unique<ReceiveStep>(receiver_, metrics_, *std::move(target));
  }
  return decision;
}

}  // namespace linechannel::server
