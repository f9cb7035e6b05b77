#include "server/http/admin_handler.h"

#include <optional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linechannel::server {
namespace {

using ::testing::HasSubstr;

// Answers POST /extra with 201 and leaves everything else alone.
class ExtraRoute : public AdminRoutes {
 public:
  std::optional<HttpAnswer> Answer(const HttpHead& head) override {
    if (head.path != "/extra" || head.method != "POST") return std::nullopt;
    return HttpAnswer{201, "extra\n"};
  }
};

HttpAnswer AnswerOf(AdminHandler& handler, const std::string& method, const std::string& path) {
  HttpHead head;
  head.method = method;
  head.path = path;
  HttpHandler::Decision decision = handler.OnHead(head);
  EXPECT_TRUE(decision.answer.has_value()) << method << " " << path;
  return decision.answer.value_or(HttpAnswer{});
}

TEST(AdminHandlerTest, WithoutExtraRoutesOnlyMetricsAndHealthExist) {
  Metrics metrics;
  AdminHandler handler(&metrics, nullptr);
  EXPECT_EQ(AnswerOf(handler, "GET", "/healthz").status, 200);
  EXPECT_EQ(AnswerOf(handler, "GET", "/metrics").status, 200);
  EXPECT_EQ(AnswerOf(handler, "POST", "/test/storage_fault").status, 404);
  EXPECT_EQ(AnswerOf(handler, "POST", "/extra").status, 404);
  EXPECT_EQ(AnswerOf(handler, "POST", "/healthz").status, 405);
  handler.SetShuttingDown();
  EXPECT_EQ(AnswerOf(handler, "GET", "/healthz").status, 503);
}

TEST(AdminHandlerTest, ExtraRoutesAreAskedFirstAndTheRestIsUnchanged) {
  Metrics metrics;
  ExtraRoute extra;
  AdminHandler handler(&metrics, &extra);
  const HttpAnswer answer = AnswerOf(handler, "POST", "/extra");
  EXPECT_EQ(answer.status, 201);
  EXPECT_THAT(answer.body, HasSubstr("extra"));
  EXPECT_EQ(AnswerOf(handler, "GET", "/extra").status, 404);
  EXPECT_EQ(AnswerOf(handler, "GET", "/healthz").status, 200);
}

}  // namespace
}  // namespace linechannel::server
