#include "client/command_line.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace linechannel::client {

int UsageError(const std::string& problem) {
  std::cerr << "channelctl: " << problem << "\n(channelctl --help shows the commands and flags)\n";
  return kExitUsage;
}

int PrintServerError(const absl::Status& status, bool json) {
  if (json) {
    std::cerr << FormatErrorJson(status) << "\n";
  } else {
    std::cerr << "channelctl: " << FormatError(status);
  }
  return kExitServerError;
}

std::string MissingFlags(const std::vector<std::pair<std::string, std::string>>& required) {
  std::string missing;
  for (const auto& [flag, value] : required) {
    if (value.empty()) absl::StrAppend(&missing, missing.empty() ? "" : ", ", "--", flag);
  }
  return missing;
}

absl::StatusOr<std::vector<std::string>> TakeRepeatedFlag(const std::string& name,
                                                          std::vector<char*>& argv) {
  std::vector<std::string> values;
  std::vector<char*> rest;
  bool flags_ended = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const absl::string_view arg = argv[i];
    if (i == 0 || flags_ended || arg.size() < 2 || arg[0] != '-') {
      rest.push_back(argv[i]);
      continue;
    }
    if (arg == "--") flags_ended = true;
    absl::string_view flag = arg.substr(arg[1] == '-' ? 2 : 1);
    if (!absl::ConsumePrefix(&flag, name)) {
      rest.push_back(argv[i]);
      continue;
    }
    if (absl::ConsumePrefix(&flag, "=")) {
      values.emplace_back(flag);
    } else if (flag.empty()) {
      if (i + 1 == argv.size()) return absl::InvalidArgumentError("--" + name + " needs a value");
      values.emplace_back(argv[++i]);
    } else {
      rest.push_back(argv[i]);  // Another flag that starts with `name`.
    }
  }
  argv = std::move(rest);
  return values;
}

}  // namespace linechannel::client
