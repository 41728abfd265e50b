// The gRPC server's transport security: plaintext, TLS (--tls_cert,
// --tls_key), or mutual TLS (also --tls_client_ca: clients must present a
// certificate signed by that CA).
//
// The files are read once, at start, and checked with OpenSSL before gRPC
// sees them, so that a missing or unreadable file, text that is not PEM, or
// a key that does not belong to the certificate is one line naming the file
// (and exit code 2) instead of gRPC's generic failure to bind. Rotating a
// certificate is a restart (a rolling one behind the clients' round_robin).
//
// Thread safety: pure functions.
#ifndef SECUREBERT_SERVER_APP_TLS_CREDENTIALS_H_
#define SECUREBERT_SERVER_APP_TLS_CREDENTIALS_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace securebert::app {

struct TlsOptions {
  std::string cert_file;       // PEM certificate chain; empty: plaintext
  std::string key_file;        // PEM private key of cert_file
  std::string client_ca_file;  // PEM CA certificates; non-empty: require client certificates
};

// Credentials for `options`; INVALID_ARGUMENT naming the flag and the file
// for every inconsistency (a key without a certificate, a client CA without
// TLS, unreadable or non-PEM files, a key that does not match).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsOptions& options);

}  // namespace securebert::app

#endif  // SECUREBERT_SERVER_APP_TLS_CREDENTIALS_H_
