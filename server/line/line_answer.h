#ifndef LINECHANNEL_SERVER_LINE_LINE_ANSWER_H_
#define LINECHANNEL_SERVER_LINE_LINE_ANSWER_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/line/curl_exchange.h"
#include "simdjson.h"

namespace linechannel::server {

// Reading LINE's answers, shared by the management (curl_line_api.cc) and the messaging
// (curl_line_messaging.cc) calls. Internal to server/line.

// LINE's own words from an error body: OAuth endpoints answer {error, error_description},
// /v2/bot endpoints {message, details: [{message, property}]}. Fields LINE left out are empty.
struct LineErrorBody {
  std::string error;
  std::string error_description;
  std::string message;
  // (property, message) of each detail, in LINE's order.
  std::vector<std::pair<std::string, std::string>> details;
};
LineErrorBody ParseLineError(absl::string_view body);

// `text` made fit to quote in our messages: at most 300 bytes, no control characters.
std::string Quotable(std::string text);

// " (X-Line-Request-Id: ...)" or nothing, for messages support people can trace with LINE.
std::string RequestIdSuffix(const CurlExchange::Response& response);

// "LINE <call> answered HTTP <status> (<said>) (X-Line-Request-Id: ...)"; no parentheses
// around an empty `said`.
std::string AnswerMessage(const CurlExchange::Response& response, absl::string_view call,
                          absl::string_view said);

// An answer with its JSON body parsed. On the heap: the document points into its parser.
struct JsonAnswer {
  CurlExchange::Response response;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  // False when the body is not JSON (`doc` is then unset).
  bool parsed = false;
};

// `response` with its body parsed.
std::unique_ptr<JsonAnswer> ParseJsonAnswer(CurlExchange::Response response);

}  // namespace linechannel::server

#endif  // LINECHANNEL_SERVER_LINE_LINE_ANSWER_H_
