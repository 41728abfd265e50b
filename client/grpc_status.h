// The client's one mapping from gRPC statuses to absl statuses: the same
// code, the same message. Everything in client/ that turns a grpc::Status
// into an error goes through here.
//
// Stateless; safe from any thread.
#ifndef SECUREBERT_CLIENT_GRPC_STATUS_H_
#define SECUREBERT_CLIENT_GRPC_STATUS_H_

#include <string>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace securebert::client {

// OK maps to OkStatus; any other code to the absl code of the same number
// (gRPC and absl share the canonical codes), keeping the message. Codes
// outside the canonical range become UNKNOWN.
absl::Status ToAbslStatus(const grpc::Status& status);

// The canonical name of a code, e.g. "UNAVAILABLE".
std::string StatusCodeName(absl::StatusCode code);

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_GRPC_STATUS_H_
