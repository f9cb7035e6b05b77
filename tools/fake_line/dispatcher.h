#ifndef LINECHANNEL_TOOLS_FAKE_LINE_DISPATCHER_H_
#define LINECHANNEL_TOOLS_FAKE_LINE_DISPATCHER_H_

#include "tools/fake_line/control_api.h"
#include "tools/fake_line/http_message.h"
#include "tools/fake_line/lookup_api.h"
#include "tools/fake_line/management_api.h"
#include "tools/fake_line/messaging_api.h"

namespace linechannel::fake_line {

// Sends /fake/... to the control API, LINE's sending and reading calls to the messaging and
// lookup APIs, and everything else to LINE's management API (which answers 404 for unknown
// paths); with `log_requests`, writes one line per request to stderr. Thread-safe.
class Dispatcher {
 public:
  // All APIs must outlive the dispatcher.
  Dispatcher(const ManagementApi* management, const MessagingApi* messaging,
             const LookupApi* lookup, const ControlApi* control, bool log_requests)
      : management_(management),
        messaging_(messaging),
        lookup_(lookup),
        control_(control),
        log_requests_(log_requests) {}

  HttpResponse Handle(const HttpRequest& request) const;

 private:
  HttpResponse Route(const HttpRequest& request) const;

  const ManagementApi* const management_;
  const MessagingApi* const messaging_;
  const LookupApi* const lookup_;
  const ControlApi* const control_;
  const bool log_requests_;
};

}  // namespace linechannel::fake_line

#endif  // LINECHANNEL_TOOLS_FAKE_LINE_DISPATCHER_H_
