#include "server/line/line_answer.h"

#include <string_view>

#include "absl/strings/str_cat.h"

namespace linechannel::server {
namespace {

std::string StringAt(simdjson::dom::element element, std::string_view key) {
  std::string_view value;
  if (element[key].get_string().get(value) != simdjson::SUCCESS) return "";
  return std::string(value);
}

}  // namespace

LineErrorBody ParseLineError(absl::string_view body) {
  LineErrorBody error;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) return error;
  error.error = StringAt(doc, "error");
  error.error_description = StringAt(doc, "error_description");
  error.message = StringAt(doc, "message");
  simdjson::dom::array details;
  if (doc["details"].get_array().get(details) == simdjson::SUCCESS) {
    for (simdjson::dom::element detail : details) {
      error.details.emplace_back(StringAt(detail, "property"), StringAt(detail, "message"));
    }
  }
  return error;
}

std::string Quotable(std::string text) {
  // LINE's words go into our messages: keep them short and printable.
  if (text.size() > 300) text = text.substr(0, 300) + "…";
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return text;
}

std::string RequestIdSuffix(const CurlExchange::Response& response) {
  if (response.request_id.empty()) return "";
  return absl::StrCat(" (X-Line-Request-Id: ", response.request_id, ")");
}

std::string AnswerMessage(const CurlExchange::Response& response, absl::string_view call,
                          absl::string_view said) {
  return absl::StrCat("LINE ", call, " answered HTTP ", response.status,
                      said.empty() ? "" : absl::StrCat(" (", said, ")"), RequestIdSuffix(response));
}

std::unique_ptr<JsonAnswer> ParseJsonAnswer(CurlExchange::Response response) {
  auto answer = std::make_unique<JsonAnswer>();
  answer->response = std::move(response);
  answer->parsed =
      answer->parser.parse(answer->response.body).get(answer->doc) == simdjson::SUCCESS;
  return answer;
}

}  // namespace linechannel::server
