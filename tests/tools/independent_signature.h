#ifndef LINECHANNEL_TESTS_TOOLS_INDEPENDENT_SIGNATURE_H_
#define LINECHANNEL_TESTS_TOOLS_INDEPENDENT_SIGNATURE_H_

#include <string>

namespace linechannel::testing {

// base64(HMAC-SHA256(key = `secret`, msg = `body`)) computed with OpenSSL's one-shot HMAC() and
// EVP_EncodeBlock: deliberately not the fake's code path (EVP_Q_mac + Abseil base64).
std::string IndependentSignature(const std::string& secret, const std::string& body);

}  // namespace linechannel::testing

#endif  // LINECHANNEL_TESTS_TOOLS_INDEPENDENT_SIGNATURE_H_
