#include "tools/fake_line/dispatcher.h"

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace linechannel::fake_line {

HttpResponse Dispatcher::Route(const HttpRequest& request) const {
  if (request.path == "/fake" || absl::StartsWith(request.path, "/fake/")) {
    return control_->Handle(request);
  }
  if (auto response = messaging_->Handle(request)) return *std::move(response);
  if (auto response = lookup_->Handle(request)) return *std::move(response);
  return management_->Handle(request);
}

HttpResponse Dispatcher::Handle(const HttpRequest& request) const {
  HttpResponse response = Route(request);
  if (log_requests_) {
    // One write per line so lines from concurrent connections do not interleave. Bodies are
    // not logged: they carry tokens and secrets.
    std::cerr << absl::StrCat("fake_line: ", request.method, " ", request.path, " -> ",
                              response.drop_connection ? "dropped" : absl::StrCat(response.status),
                              "\n")
              << std::flush;
  }
  return response;
}

}  // namespace linechannel::fake_line
