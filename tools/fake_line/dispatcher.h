#ifndef LINECHANNEL_TOOLS_FAKE_LINE_DISPATCHER_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_DISPATCHER_H_

#include "tools/fake_line/control_api.h"
#include "tools/fake_line/http_message.h"
#include "tools/fake_line/management_api.h"

namespace linechannel::fake_line {

// Sends /fake/... to the control API and everything else to LINE's management API; with
// `log_requests`, writes one line per request to stderr. Thread-safe.
class Dispatcher {
 public:
  // Both APIs must outlive the dispatcher.
  Dispatcher(const ManagementApi* management, const ControlApi* control, bool log_requests)
      : management_(management), control_(control), log_requests_(log_requests) {}

  HttpResponse Handle(const HttpRequest& request) const;

 private:
  const ManagementApi* const management_;
  const ControlApi* const control_;
  const bool log_requests_;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_DISPATCHER_H_
