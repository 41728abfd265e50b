// Every request limit, checked once: the code, and a message that names the
// field and the limit.
#include "service/request_limits.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace securebert::service {
namespace {

using ::testing::HasSubstr;

void ExpectInvalid(const absl::Status& status, const std::string& fragment) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr(fragment));
}

TEST(RequestLimits, InputCountIsOneToMaxClientBatchSize) {
  RequestLimits limits;
  limits.max_client_batch_size = 4;
  ExpectInvalid(CheckInputCount(0, limits), "inputs: empty");
  EXPECT_TRUE(CheckInputCount(1, limits).ok());
  EXPECT_TRUE(CheckInputCount(4, limits).ok());
  ExpectInvalid(CheckInputCount(5, limits), "5 texts, more than max_client_batch_size=4");
}

TEST(RequestLimits, TopKZeroMeansTheDefaultAndRangeIsChecked) {
  const RequestLimits limits;
  EXPECT_EQ(*ResolveTopK(0, limits), 10);
  EXPECT_EQ(*ResolveTopK(1, limits), 1);
  EXPECT_EQ(*ResolveTopK(1000, limits), 1000);
  ExpectInvalid(ResolveTopK(1001, limits).status(), "use 1..1000");
  ExpectInvalid(ResolveTopK(UINT32_MAX, limits).status(), "top_k: 4294967295");
}

TEST(RequestLimits, EveryInputNeedsAMaskAndAtMostMaxMasksPerInput) {
  RequestLimits limits;
  limits.max_masks_per_input = 3;
  EXPECT_TRUE(CheckMasks({{1}, {1, 2, 3}}, {false, false}, 10, "<mask>", limits).ok());
  ExpectInvalid(CheckMasks({{1}, {}}, {false, false}, 10, "<mask>", limits),
                "inputs[1]: no <mask> token; PredictMask needs at least one");
  ExpectInvalid(CheckMasks({{}}, {true}, 10, "<mask>", limits),
                "no <mask> token left after truncation");
  ExpectInvalid(CheckMasks({{1, 2, 3, 4}}, {false}, 10, "<mask>", limits),
                "inputs[0]: 4 <mask> tokens, more than max_masks_per_input=3");
}

TEST(RequestLimits, MasksTimesTopKIsAtMostMaxMaskPredictions) {
  RequestLimits limits;
  limits.max_mask_predictions = 2000;
  EXPECT_TRUE(CheckMasks({{1}, {2}}, {false, false}, 1000, "<mask>", limits).ok());
  ExpectInvalid(
      CheckMasks({{1}, {2, 3}}, {false, false}, 1000, "<mask>", limits),
      "3 <mask> tokens x top_k=1000 = 3000 candidates, more than max_mask_predictions=2000");
}

TEST(RequestLimits, ResponseBytesAreAtMostMaxResponseBytes) {
  RequestLimits limits;
  limits.max_response_bytes = 1 << 20;
  EXPECT_TRUE(CheckResponseBytes(1 << 20, "ask for less", limits).ok());
  const absl::Status s = CheckResponseBytes(3 << 20, "ask for less", limits);
  ExpectInvalid(s, "about 3 MiB");
  EXPECT_THAT(s.message(), HasSubstr("max_message_bytes=1048576; ask for less"));
}

}  // namespace
}  // namespace securebert::service
