#include "tools/fake_line/dispatcher.h"

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace linechannel::fake_line {

HttpResponse Dispatcher::Handle(const HttpRequest& request) const {
  const bool control = request.path == "/fake" || absl::StartsWith(request.path, "/fake/");
  HttpResponse response = control ? control_->Handle(request) : management_->Handle(request);
  if (log_requests_) {
    // One write per line so lines from concurrent connections do not interleave. Bodies are
    // not logged: they carry tokens and secrets.
    std::cerr << absl::StrCat("fake_line: ", request.method, " ", request.path, " -> ",
                              response.status, "\n")
              << std::flush;
  }
  return response;
}

}  // namespace linechannel::fake_line
