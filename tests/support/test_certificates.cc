#include "tests/support/test_certificates.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/status/status.h"

namespace linechannel::testing {
namespace {

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

bool AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (extension == nullptr) return false;
  const bool ok = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return ok;
}

enum class Role { kCa, kServer, kClient };

CertPtr MakeCertificate(EVP_PKEY* key, const char* common_name, long serial, X509* issuer,
                        EVP_PKEY* issuer_key, Role role) {
  CertPtr cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer == nullptr ? cert.get() : issuer;
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  bool ok = true;
  if (role == Role::kCa) {
    ok = AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE") &&
         AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else if (role == Role::kServer) {
    ok = AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE") &&
         AddExtension(cert.get(), signer, NID_ext_key_usage, "serverAuth") &&
         AddExtension(cert.get(), signer, NID_subject_alt_name, "DNS:localhost");
  } else {
    ok = AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE") &&
         AddExtension(cert.get(), signer, NID_ext_key_usage, "clientAuth");
  }
  if (!ok || X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0)
    return CertPtr(nullptr, X509_free);
  return cert;
}

template <typename Writer>
std::string ToPem(Writer write) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!write(bio.get())) return "";
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace

absl::StatusOr<TestPki> GenerateTestPki() {
  KeyPtr ca_key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  KeyPtr server_key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  KeyPtr client_key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!ca_key || !server_key || !client_key) return absl::InternalError("EC key generation failed");
  CertPtr ca =
      MakeCertificate(ca_key.get(), "linechannel test CA", 1, nullptr, ca_key.get(), Role::kCa);
  if (!ca) return absl::InternalError("CA certificate generation failed");
  CertPtr server =
      MakeCertificate(server_key.get(), "localhost", 2, ca.get(), ca_key.get(), Role::kServer);
  if (!server) return absl::InternalError("server certificate generation failed");
  CertPtr client =
      MakeCertificate(client_key.get(), "test client", 3, ca.get(), ca_key.get(), Role::kClient);
  if (!client) return absl::InternalError("client certificate generation failed");

  TestPki pki;
  pki.ca_certificate_pem = ToPem([&](BIO* bio) { return PEM_write_bio_X509(bio, ca.get()) == 1; });
  pki.server_certificate_pem =
      ToPem([&](BIO* bio) { return PEM_write_bio_X509(bio, server.get()) == 1; });
  pki.server_private_key_pem = ToPem([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, server_key.get(), nullptr, nullptr, 0, nullptr, nullptr) ==
           1;
  });
  pki.client_certificate_pem =
      ToPem([&](BIO* bio) { return PEM_write_bio_X509(bio, client.get()) == 1; });
  pki.client_private_key_pem = ToPem([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, client_key.get(), nullptr, nullptr, 0, nullptr, nullptr) ==
           1;
  });
  if (pki.ca_certificate_pem.empty() || pki.server_certificate_pem.empty() ||
      pki.server_private_key_pem.empty() || pki.client_certificate_pem.empty() ||
      pki.client_private_key_pem.empty()) {
    return absl::InternalError("PEM encoding failed");
  }
  return pki;
}

}  // namespace linechannel::testing
