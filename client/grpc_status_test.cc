#include "client/grpc_status.h"

#include <gtest/gtest.h>

namespace securebert::client {
namespace {

TEST(GrpcStatusTest, OkMapsToOk) { EXPECT_TRUE(ToAbslStatus(grpc::Status::OK).ok()); }

TEST(GrpcStatusTest, KeepsCodeAndMessage) {
  const struct {
    grpc::StatusCode grpc_code;
    absl::StatusCode absl_code;
  } cases[] = {
      {grpc::StatusCode::INVALID_ARGUMENT, absl::StatusCode::kInvalidArgument},
      {grpc::StatusCode::RESOURCE_EXHAUSTED, absl::StatusCode::kResourceExhausted},
      {grpc::StatusCode::UNAVAILABLE, absl::StatusCode::kUnavailable},
      {grpc::StatusCode::DEADLINE_EXCEEDED, absl::StatusCode::kDeadlineExceeded},
      {grpc::StatusCode::CANCELLED, absl::StatusCode::kCancelled},
      {grpc::StatusCode::INTERNAL, absl::StatusCode::kInternal},
      {grpc::StatusCode::UNAUTHENTICATED, absl::StatusCode::kUnauthenticated},
  };
  for (const auto& c : cases) {
    const absl::Status status = ToAbslStatus(grpc::Status(c.grpc_code, "inputs[0]: too long"));
    EXPECT_EQ(status.code(), c.absl_code);
    EXPECT_EQ(status.message(), "inputs[0]: too long");
  }
}

TEST(GrpcStatusTest, NonCanonicalCodesBecomeUnknown) {
  const absl::Status status = ToAbslStatus(grpc::Status(grpc::StatusCode::DO_NOT_USE, "odd"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(status.message(), "odd");
}

TEST(GrpcStatusTest, CodeNames) {
  EXPECT_EQ(StatusCodeName(absl::StatusCode::kUnavailable), "UNAVAILABLE");
  EXPECT_EQ(StatusCodeName(absl::StatusCode::kOk), "OK");
}

}  // namespace
}  // namespace securebert::client
