#ifndef LINECHANNEL_TESTS_SUPPORT_VERIFY_RESPONSE_H_
#define LINECHANNEL_TESTS_SUPPORT_VERIFY_RESPONSE_H_

#include <vector>

#include "gtest/gtest.h"
#include "linechannel/v1/channel_service.pb.h"

namespace linechannel::testing {

// The check of `kind` in a VerifyWebhook answer (a test failure and an empty check if absent).
inline const v1::WebhookCheck& CheckOf(const v1::VerifyWebhookResponse& response,
                                       v1::CheckKind kind) {
  for (const v1::WebhookCheck& check : response.checks()) {
    if (check.kind() == kind) return check;
  }
  static const v1::WebhookCheck* const kNone = new v1::WebhookCheck();
  ADD_FAILURE() << "no check " << v1::CheckKind_Name(kind);
  return *kNone;
}

// The kinds of the checks that failed, in answer order.
inline std::vector<v1::CheckKind> FailedChecks(const v1::VerifyWebhookResponse& response) {
  std::vector<v1::CheckKind> failed;
  for (const v1::WebhookCheck& check : response.checks()) {
    if (check.result() == v1::FAIL) failed.push_back(check.kind());
  }
  return failed;
}

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_SUPPORT_VERIFY_RESPONSE_H_
