#include "tools/fake_line/responses.h"

#include <string>

namespace linechannel::fake_line {

HttpResponse JsonResponse(int status, const JsonObject& body) {
  HttpResponse response;
  response.status = status;
  response.body = body.ToString();
  return response;
}

HttpResponse OAuthError(int status, absl::string_view error, absl::string_view description) {
  return JsonResponse(status,
                      JsonObject().Set("error", error).Set("error_description", description));
}

HttpResponse BotError(int status, absl::string_view message, absl::string_view detail,
                      absl::string_view property) {
  JsonObject body;
  body.Set("message", message);
  if (!detail.empty()) {
    body.Set("details",
             JsonArray().Add(JsonObject().Set("message", detail).Set("property", property)));
  }
  return JsonResponse(status, body);
}

HttpResponse MethodNotAllowed(absl::string_view allow) {
  HttpResponse response = BotError(405, "Method not allowed");
  response.headers.emplace_back("Allow", std::string(allow));
  return response;
}

}  // namespace linechannel::fake_line
