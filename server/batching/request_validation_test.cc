// Request checks at Submit: every malformed shape is INVALID_ARGUMENT naming
// the input and the limit; liveness reflects cancel flag and deadline.
#include "batching/request_validation.h"

#include <atomic>
#include <memory>

#include "batching/testing/engine_test_util.h"
#include "gtest/gtest.h"

namespace securebert::batching {
namespace {

using testing::EmbedRequest;
using testing::MaskRequest;
using testing::Sequence;

ModelSpec Spec() {
  ModelSpec spec;
  spec.hidden_size = 4;
  spec.vocab_size = 1000;
  spec.max_input_tokens = 512;
  return spec;
}

void ExpectInvalidWithLimit(const Request& request, int32_t limit, const std::string& fragment) {
  const absl::Status status = ValidateRequest(request, Spec(), limit);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_NE(status.message().find(fragment), std::string::npos) << status;
}

void ExpectInvalid(const Request& request, const std::string& fragment) {
  ExpectInvalidWithLimit(request, 512, fragment);
}

TEST(RequestValidationTest, AcceptsWellFormedRequests) {
  EXPECT_TRUE(ValidateRequest(EmbedRequest({Sequence(512, 1)}, Pooling::kMean), Spec(), 512).ok());
  EXPECT_TRUE(ValidateRequest(MaskRequest({Sequence(9, 1)}, 1000), Spec(), 512).ok());
  // Structure only: top_k above the service's limit, and an input without a
  // <mask>, are the service layer's rules (service/request_limits.h).
  EXPECT_TRUE(ValidateRequest(MaskRequest({Sequence(9, 1)}, 5000), Spec(), 512).ok());
  Request no_mask = MaskRequest({Sequence(9, 1)}, 5);
  no_mask.mask_positions = {{}};
  EXPECT_TRUE(ValidateRequest(no_mask, Spec(), 512).ok());
}

TEST(RequestValidationTest, RefusesMalformedEmbedRequests) {
  ExpectInvalid(EmbedRequest({}, Pooling::kCls), "no inputs");
  ExpectInvalid(EmbedRequest({Sequence(5, 1), {}}, Pooling::kCls), "input 1 has no tokens");
  ExpectInvalid(EmbedRequest({Sequence(513, 1)}, Pooling::kCls),
                "513 tokens; the limit is max_input_tokens=512");
  ExpectInvalid(EmbedRequest({{0, 1000, 2}}, Pooling::kCls),
                "token id 1000 outside the vocabulary of 1000");
}

TEST(RequestValidationTest, TheEnginesInputLimitMayBeBelowTheModels) {
  ExpectInvalidWithLimit(EmbedRequest({Sequence(129, 1)}, Pooling::kCls), 128,
                         "129 tokens; the limit is max_input_tokens=128");
}

TEST(RequestValidationTest, RefusesMalformedPredictMaskRequests) {
  ExpectInvalid(MaskRequest({Sequence(9, 1)}, 0), "top_k=0 must be at least 1");
  Request unordered = MaskRequest({Sequence(9, 1)}, 5);
  unordered.mask_positions = {{4, 3}};
  ExpectInvalid(unordered, "mask position 3");
  Request outside = MaskRequest({Sequence(9, 1)}, 5);
  outside.mask_positions = {{9}};
  ExpectInvalid(outside, "outside its 9 tokens");
  Request missing = MaskRequest({Sequence(9, 1)}, 5);
  missing.mask_positions.clear();
  ExpectInvalid(missing, "mask_positions has 0 lists for 1 inputs");
}

TEST(RequestValidationTest, LivenessFollowsCancelFlagAndDeadline) {
  const absl::Time now = absl::FromUnixSeconds(100);
  Request request = EmbedRequest({Sequence(5, 1)}, Pooling::kCls);
  EXPECT_TRUE(RequestLiveness(request, now).ok());
  request.deadline = now;
  EXPECT_EQ(RequestLiveness(request, now).code(), absl::StatusCode::kDeadlineExceeded);
  request.deadline = absl::InfiniteFuture();
  request.cancelled = std::make_shared<std::atomic<bool>>(true);
  EXPECT_EQ(RequestLiveness(request, now).code(), absl::StatusCode::kCancelled);
}

TEST(RequestValidationTest, CountsTokensOfAllInputs) {
  EXPECT_EQ(CountTokens(EmbedRequest({Sequence(5, 1), Sequence(7, 1)}, Pooling::kCls)), 12);
}

}  // namespace
}  // namespace securebert::batching
