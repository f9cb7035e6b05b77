#include "server/http/admin_handler.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "storage/sqlite/fault_injection.h"

namespace linechannel::server {

HttpHandler::Decision AdminHandler::OnHead(const HttpHead& head) {
  Decision decision;
  HttpAnswer answer;
  if (test_hooks_ && head.path == "/test/storage_fault" && head.method == "POST") {
    absl::string_view fault_name = head.query;
    storage::StorageFault fault;
    if (!absl::ConsumePrefix(&fault_name, "fault=") ||
        !storage::ParseStorageFault(fault_name, &fault)) {
      answer = {400, "give ?fault=none|disk_full|io_error|read_only\n"};
    } else {
      storage::SetStorageFault(fault);
      answer = {200, absl::StrCat("storage fault: ", fault_name, "\n")};
      answer.log_fields.emplace_back("storage_fault", std::string(fault_name));
    }
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
  } else {
    answer = {200, "ok\n"};
  }
  decision.answer = std::move(answer);
  return decision;
}

}  // namespace linechannel::server
