// Command-line flags shared by securebert-client and securebert-load, and
// their mapping onto ClientOptions and RequestSettings:
//
//   --target, --lb_policy, --deadline_ms, --insecure, --cacert, --cert, --key,
//   --cname, --token, --max_recv_message_bytes, --pooling, --normalize,
//   --truncation, --top_k
// With TLS (--insecure=false), unset --cacert, --cert, --key and --token are
// read from SECUREBERT_CA_FILE, SECUREBERT_CERT_FILE, SECUREBERT_KEY_FILE and
// SECUREBERT_TOKEN, as the Go and Python clients do.
//
// Linking this library defines the flags; call the functions after
// absl::ParseCommandLine. Reads global flag state; call from one thread.
#ifndef SECUREBERT_CLIENT_CLIENT_FLAGS_H_
#define SECUREBERT_CLIENT_CLIENT_FLAGS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/client_options.h"
#include "client/request_settings.h"

namespace securebert::client {

// Checks argv (up to a "--") before absl::ParseCommandLine, which exits 1
// on a bad flag: INVALID_ARGUMENT naming an unknown flag or a value that
// does not parse, so that mains can exit 2 for usage errors. absl's own
// flags (--help, --flagfile, ...) pass unchecked.
absl::Status CheckCommandLine(int argc, char** argv);

// Connection, TLS and deadline flags. INVALID_ARGUMENT (a usage error) for
// TLS files with --insecure left on, or a negative deadline.
absl::StatusOr<ClientOptions> ClientOptionsFromFlags();

// Request shape flags. INVALID_ARGUMENT for an unknown --pooling or
// --truncation, or --top_k out of 1..1000.
absl::StatusOr<RequestSettings> RequestSettingsFromFlags();

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_CLIENT_FLAGS_H_
