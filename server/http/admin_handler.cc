#include "server/http/admin_handler.h"

#include <utility>

namespace linechannel::server {

HttpHandler::Decision AdminHandler::OnHead(const HttpHead& head) {
  Decision decision;
  HttpAnswer answer;
  std::optional<HttpAnswer> extra = extra_ == nullptr ? std::nullopt : extra_->Answer(head);
  if (extra.has_value()) {
    answer = *std::move(extra);
  } else if (head.path != "/metrics" && head.path != "/healthz") {
    answer = {404, "no such path; try /metrics or /healthz\n"};
  } else if (head.method != "GET") {
    answer = {405, "use GET\n"};
    answer.headers.emplace_back("Allow", "GET");
  } else if (head.path == "/metrics") {
    answer.body = metrics_->RenderPrometheus();
    answer.content_type = "text/plain; version=0.0.4; charset=utf-8";
  } else if (shutting_down_) {
    answer = {503, "shutting down\n"};
  } else if (store_unreachable_) {
    answer = {503, "the database cannot be reached\n"};
  } else {
    answer = {200, "ok\n"};
  }
  decision.answer = std::move(answer);
  return decision;
}

}  // namespace linechannel::server
