#include "service/request_mapping.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace securebert::service {
namespace {

using ::testing::HasSubstr;

TEST(RequestMapping, EmbedMapsEveryField) {
  wire::v1::EmbedRequest r;
  r.add_inputs("a");
  r.add_inputs("b");
  r.set_pooling(wire::v1::POOLING_MEAN);
  r.set_normalize(true);
  r.set_truncation(wire::v1::TRUNCATION_LEFT);
  auto mapped = MapEmbedRequest(r, {});
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ(mapped->request.kind, batching::Request::Kind::kEmbed);
  EXPECT_THAT(*mapped->texts, ::testing::ElementsAre("a", "b"));
  EXPECT_EQ(mapped->request.pooling, batching::Pooling::kMean);
  EXPECT_TRUE(mapped->request.normalize);
  EXPECT_EQ(mapped->truncation, InputTruncation::kLeft);
  EXPECT_TRUE(mapped->request.sequences.empty());  // left to the tokenizer stage
}

TEST(RequestMapping, PredictMaskMapsEveryField) {
  wire::v1::PredictMaskRequest r;
  r.add_inputs("x <mask>");
  r.set_top_k(7);
  r.set_truncation(wire::v1::TRUNCATION_RIGHT);
  r.set_omit_sequence(true);
  auto mapped = MapPredictMaskRequest(r, {});
  ASSERT_TRUE(mapped.ok()) << mapped.status();
  EXPECT_EQ(mapped->request.kind, batching::Request::Kind::kPredictMask);
  EXPECT_EQ(mapped->request.top_k, 7);
  EXPECT_EQ(mapped->truncation, InputTruncation::kRight);
  EXPECT_TRUE(mapped->omit_sequence);
}

TEST(RequestMapping, EmptyInputsNameTheField) {
  absl::Status s = MapEmbedRequest(wire::v1::EmbedRequest(), {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("inputs"));
}

TEST(RequestMapping, TooManyInputsNameTheLimit) {
  wire::v1::PredictMaskRequest r;
  for (int i = 0; i < 5; ++i) r.add_inputs("x <mask>");
  RequestLimits limits;
  limits.max_client_batch_size = 4;
  absl::Status s = MapPredictMaskRequest(r, limits).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("max_client_batch_size=4"));
}

TEST(RequestMapping, TopKOutOfRangeIsRefused) {
  wire::v1::PredictMaskRequest r;
  r.add_inputs("x <mask>");
  EXPECT_EQ(MapPredictMaskRequest(r, {})->request.top_k, 10);
  r.set_top_k(1001);
  absl::Status s = MapPredictMaskRequest(r, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("1..1000"));
}

TEST(RequestMapping, UnknownEnumValuesAreRefused) {
  wire::v1::EmbedRequest r;
  r.add_inputs("a");
  r.set_pooling(static_cast<wire::v1::Pooling>(7));
  EXPECT_THAT(MapEmbedRequest(r, {}).status().message(), HasSubstr("pooling: unknown value 7"));
  r.set_pooling(wire::v1::POOLING_CLS);
  r.set_truncation(static_cast<wire::v1::Truncation>(9));
  EXPECT_THAT(MapEmbedRequest(r, {}).status().message(), HasSubstr("truncation: unknown value 9"));
}

}  // namespace
}  // namespace securebert::service
