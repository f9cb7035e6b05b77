#ifndef LINECHANNEL_CLIENT_COMMAND_LINE_H_
#define LINECHANNEL_CLIENT_COMMAND_LINE_H_

#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/output.h"

namespace linechannel::client {

// What every channelctl command shares: exit codes, how usage mistakes, server errors and
// results are printed.

inline constexpr int kExitOk = 0;
inline constexpr int kExitServerError = 1;
inline constexpr int kExitUsage = 2;

// Prints "channelctl: <problem>" and a pointer to --help on stderr; returns kExitUsage.
int UsageError(const std::string& problem);

// Prints the server's error on stderr (FormatError, or FormatErrorJson with `json`); returns
// kExitServerError.
int PrintServerError(const absl::Status& status, bool json);

// Prints a result (with `json` as JSON on stdout, else through `print`) or the server's error;
// returns the exit status.
template <typename Response, typename Print>
int ReportResult(const absl::StatusOr<Response>& result, bool json, Print print) {
  if (!result.ok()) return PrintServerError(result.status(), json);
  if (json) {
    std::cout << FormatJson(*result) << "\n";
  } else {
    print(*result);
  }
  return kExitOk;
}

// The flags a command needs that are empty, as "--a, --b", in the order given.
std::string MissingFlags(const std::vector<std::pair<std::string, std::string>>& required);

// Takes every occurrence of the repeatable string flag `name` out of argv (the forms
// --name=V, -name=V, --name V and -name V, up to a lone "--"), in order, so that a flag
// library that keeps only the last value never sees them. INVALID_ARGUMENT if one has no value.
absl::StatusOr<std::vector<std::string>> TakeRepeatedFlag(const std::string& name,
                                                          std::vector<char*>& argv);

}  // namespace linechannel::client

#endif  // LINECHANNEL_CLIENT_COMMAND_LINE_H_
