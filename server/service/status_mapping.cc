#include "service/status_mapping.h"

#include <string>

namespace securebert::service {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  const std::string message(status.message());
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return grpc::Status::OK;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return {grpc::StatusCode::INVALID_ARGUMENT, message};
    case absl::StatusCode::kResourceExhausted:
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, message};
    case absl::StatusCode::kUnavailable:
      return {grpc::StatusCode::UNAVAILABLE, message};
    case absl::StatusCode::kDeadlineExceeded:
      return {grpc::StatusCode::DEADLINE_EXCEEDED, message};
    case absl::StatusCode::kCancelled:
      return {grpc::StatusCode::CANCELLED, message};
    case absl::StatusCode::kUnauthenticated:
      return {grpc::StatusCode::UNAUTHENTICATED, message};
    case absl::StatusCode::kUnimplemented:
      return {grpc::StatusCode::UNIMPLEMENTED, message};
    case absl::StatusCode::kFailedPrecondition:
      // The loaded model cannot serve the RPC (it lacks the head it needs).
      return {grpc::StatusCode::FAILED_PRECONDITION, message};
    default:
      // Model failures and anything unexpected.
      return {grpc::StatusCode::INTERNAL, message};
  }
}

}  // namespace securebert::service
