#include "server/base/errors.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/duration.pb.h"
#include "google/rpc/error_details.pb.h"

namespace linechannel::server {
namespace {

// Payloads are keyed by the type URL an Any of the message would have, so the gRPC edge can
// pass them on as google.rpc.Status details unchanged.
void SetDetail(absl::Status& status, const google::protobuf::Message& detail) {
  google::protobuf::Any any;
  any.PackFrom(detail);
  status.SetPayload(any.type_url(), absl::Cord(any.value()));
}

std::string TypeUrl(const google::protobuf::Descriptor* descriptor) {
  return "type.googleapis.com/" + descriptor->full_name();
}

}  // namespace

absl::Status ReasonedError(absl::StatusCode code, absl::string_view reason,
                           absl::string_view message,
                           const std::map<std::string, std::string>& metadata) {
  absl::Status status(code, message);
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(kErrorDomain);
  for (const auto& [key, value] : metadata) (*info.mutable_metadata())[key] = value;
  SetDetail(status, info);
  return status;
}

absl::Status InvalidFieldsError(const std::vector<FieldViolation>& violations) {
  std::vector<std::string> parts;
  google::rpc::BadRequest bad_request;
  for (const FieldViolation& v : violations) {
    parts.push_back(absl::StrCat(v.field, ": ", v.description));
    auto* out = bad_request.add_field_violations();
    out->set_field(v.field);
    out->set_description(v.description);
  }
  absl::Status status =
      ReasonedError(absl::StatusCode::kInvalidArgument, reason::kInvalidFields,
                    absl::StrCat("invalid request: ", absl::StrJoin(parts, "; ")));
  SetDetail(status, bad_request);
  return status;
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  google::rpc::RetryInfo retry;
  const int64_t seconds = absl::ToInt64Seconds(delay);
  retry.mutable_retry_delay()->set_seconds(seconds);
  retry.mutable_retry_delay()->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(delay - absl::Seconds(seconds))));
  SetDetail(status, retry);
  return status;
}

std::optional<std::string> ErrorReason(const absl::Status& status) {
  const auto payload = status.GetPayload(TypeUrl(google::rpc::ErrorInfo::descriptor()));
  if (!payload) return std::nullopt;
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return std::nullopt;
  return info.reason();
}

std::optional<absl::Duration> RetryDelayOf(const absl::Status& status) {
  const auto payload = status.GetPayload(TypeUrl(google::rpc::RetryInfo::descriptor()));
  if (!payload) return std::nullopt;
  google::rpc::RetryInfo retry;
  if (!retry.ParseFromString(std::string(*payload))) return std::nullopt;
  return absl::Seconds(retry.retry_delay().seconds()) +
         absl::Nanoseconds(retry.retry_delay().nanos());
}

absl::Status WithReason(absl::Status status) {
  if (status.ok() || ErrorReason(status)) return status;
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
      return WithRetryDelay(
          ReasonedError(status.code(), reason::kStorageUnavailable, status.message()),
          absl::Seconds(1));
    case absl::StatusCode::kDeadlineExceeded:
      return ReasonedError(status.code(), reason::kDeadlineExceeded, status.message());
    case absl::StatusCode::kCancelled:
      return ReasonedError(status.code(), reason::kCancelled, status.message());
    default:
      return ReasonedError(absl::StatusCode::kInternal, reason::kInternal, status.message());
  }
}

}  // namespace linechannel::server
