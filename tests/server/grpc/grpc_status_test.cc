#include "server/grpc/grpc_status.h"

#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "server/base/errors.h"

namespace linechannel::server {
namespace {

google::rpc::Status Details(const grpc::Status& status) {
  google::rpc::Status details;
  EXPECT_TRUE(details.ParseFromString(status.error_details()));
  return details;
}

google::rpc::ErrorInfo Info(const grpc::Status& status) {
  google::rpc::ErrorInfo info;
  const google::rpc::Status details = Details(status);
  for (const auto& any : details.details()) {
    if (any.UnpackTo(&info)) return info;
  }
  ADD_FAILURE() << "no ErrorInfo";
  return info;
}

TEST(GrpcStatusTest, OkStaysOk) { EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok()); }

TEST(GrpcStatusTest, CarriesReasonAndFieldViolationsAsStandardDetails) {
  const grpc::Status status = ToGrpcStatus(
      WithRetryDelay(InvalidFieldsError({{"channel_id", "digits only"}}), absl::Seconds(2)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const google::rpc::Status details = Details(status);
  EXPECT_EQ(details.code(), 3);
  EXPECT_EQ(details.message(), status.error_message());
  google::rpc::ErrorInfo info;
  google::rpc::BadRequest bad_request;
  google::rpc::RetryInfo retry;
  for (const auto& any : details.details()) {
    if (any.Is<google::rpc::ErrorInfo>()) {
      ASSERT_TRUE(any.UnpackTo(&info));
    } else if (any.Is<google::rpc::BadRequest>()) {
      ASSERT_TRUE(any.UnpackTo(&bad_request));
    } else if (any.Is<google::rpc::RetryInfo>()) {
      ASSERT_TRUE(any.UnpackTo(&retry));
    }
  }
  EXPECT_EQ(info.reason(), "INVALID_FIELDS");
  EXPECT_EQ(info.domain(), "linechannel.v1");
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "channel_id");
  EXPECT_EQ(retry.retry_delay().seconds(), 2);
}

TEST(GrpcStatusTest, EveryErrorGetsAReason) {
  const grpc::Status storage = ToGrpcStatus(absl::UnavailableError("storage: disk full"));
  EXPECT_EQ(storage.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Info(storage).reason(), "STORAGE_UNAVAILABLE");

  const grpc::Status bug = ToGrpcStatus(absl::DataLossError("corrupt"));
  EXPECT_EQ(bug.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(Info(bug).reason(), "INTERNAL");
}

TEST(GrpcStatusTest, MetadataTravels) {
  const grpc::Status status = ToGrpcStatus(ReasonedError(
      absl::StatusCode::kFailedPrecondition, "TOKEN_CHANNEL_MISMATCH", "m", {{"k", "v"}}));
  EXPECT_EQ(Info(status).metadata().at("k"), "v");
}

}  // namespace
}  // namespace linechannel::server
