#ifndef LINECHANNEL_SERVER_BINDING_LINE_ID_H_
#define LINECHANNEL_SERVER_BINDING_LINE_ID_H_

#include <string>

#include "absl/strings/string_view.h"

namespace linechannel::server {

// The LINE ID as stored and compared: without a leading "@", lower case.
std::string NormalizeLineId(absl::string_view line_id);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_BINDING_LINE_ID_H_
