#include "service/status_mapping.h"

#include "gtest/gtest.h"

namespace securebert::service {
namespace {

TEST(StatusMapping, ContractCodesKeepCodeAndMessage) {
  struct Case {
    absl::Status in;
    grpc::StatusCode want;
  };
  const Case cases[] = {
      {absl::InvalidArgumentError("inputs: empty"), grpc::StatusCode::INVALID_ARGUMENT},
      {absl::OutOfRangeError("top_k: 2000 > 1000"), grpc::StatusCode::INVALID_ARGUMENT},
      {absl::ResourceExhaustedError("server overloaded"), grpc::StatusCode::RESOURCE_EXHAUSTED},
      {absl::UnavailableError("draining"), grpc::StatusCode::UNAVAILABLE},
      {absl::DeadlineExceededError("deadline"), grpc::StatusCode::DEADLINE_EXCEEDED},
      {absl::CancelledError("client went away"), grpc::StatusCode::CANCELLED},
      {absl::InternalError("model failed"), grpc::StatusCode::INTERNAL},
      {absl::FailedPreconditionError("this model has no token-classification head"),
       grpc::StatusCode::FAILED_PRECONDITION},
  };
  for (const Case& c : cases) {
    const grpc::Status got = ToGrpcStatus(c.in);
    EXPECT_EQ(got.error_code(), c.want) << c.in;
    EXPECT_EQ(got.error_message(), c.in.message());
  }
}

TEST(StatusMapping, OkIsOk) { EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok()); }

TEST(StatusMapping, CodesOutsideTheContractBecomeInternal) {
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(ToGrpcStatus(absl::DataLossError("x")).error_code(), grpc::StatusCode::INTERNAL);
}

}  // namespace
}  // namespace securebert::service
