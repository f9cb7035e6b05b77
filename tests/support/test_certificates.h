#ifndef LINECHANNEL_TESTS_SUPPORT_TEST_CERTIFICATES_H_
#define LINECHANNEL_TESTS_SUPPORT_TEST_CERTIFICATES_H_

#include <string>

#include "absl/status/statusor.h"

namespace linechannel::testing {

// A throw-away PKI for TLS tests: a CA, a server certificate it signed for the host name
// "localhost" (DNS only, so https://127.0.0.1 must fail host-name checks), and a client
// certificate it signed (for mutual TLS). PEM text.
struct TestPki {
  std::string ca_certificate_pem;
  std::string server_certificate_pem;
  std::string server_private_key_pem;
  std::string client_certificate_pem;
  std::string client_private_key_pem;
};

// Generates fresh P-256 keys and certificates valid from an hour ago for a day.
absl::StatusOr<TestPki> GenerateTestPki();

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_SUPPORT_TEST_CERTIFICATES_H_
