// The one place where internal statuses become gRPC statuses.
//
// Internal code returns absl::Status with absl's canonical codes, which share
// their numbering with gRPC's; this maps each to the gRPC code the API
// contract promises (proto/securebert/v1/securebert.proto) and keeps the
// message. Codes the contract does not name become INTERNAL, so a stray
// internal code never leaks to clients with a misleading meaning.
//
// Thread safety: stateless.
#ifndef SECUREBERT_SERVER_SERVICE_STATUS_MAPPING_H_
#define SECUREBERT_SERVER_SERVICE_STATUS_MAPPING_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace securebert::service {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_STATUS_MAPPING_H_
