#include "service/request_mapping.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace securebert::service {
namespace {

using ::testing::HasSubstr;

TEST(RequestMapping, EmbedMapsEveryField) {
  v1::EmbedRequest r;
  r.add_inputs("a");
  r.add_inputs("b");
  r.set_pooling(v1::POOLING_MEAN);
  r.set_normalize(true);
  r.set_truncation(v1::TRUNCATION_LEFT);
  auto call = MapEmbedRequest(r, {});
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->kind, batching::Request::Kind::kEmbed);
  EXPECT_THAT(*call->texts, ::testing::ElementsAre("a", "b"));
  EXPECT_EQ(call->pooling, batching::Pooling::kMean);
  EXPECT_TRUE(call->normalize);
  EXPECT_EQ(call->truncation, tokenizer::Truncation::kLeft);
}

TEST(RequestMapping, EmptyInputsNameTheField) {
  absl::Status s = MapEmbedRequest(v1::EmbedRequest(), {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("inputs"));
}

TEST(RequestMapping, TooManyInputsNameTheLimit) {
  v1::PredictMaskRequest r;
  for (int i = 0; i < 5; ++i) r.add_inputs("x <mask>");
  RequestLimits limits;
  limits.max_client_batch_size = 4;
  absl::Status s = MapPredictMaskRequest(r, limits).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("max_client_batch_size=4"));
}

TEST(RequestMapping, TopKZeroMeansTenAndRangeIsChecked) {
  v1::PredictMaskRequest r;
  r.add_inputs("x <mask>");
  EXPECT_EQ(MapPredictMaskRequest(r, {})->top_k, 10);
  r.set_top_k(1000);
  EXPECT_EQ(MapPredictMaskRequest(r, {})->top_k, 1000);
  r.set_top_k(1001);
  absl::Status s = MapPredictMaskRequest(r, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("top_k"));
  EXPECT_THAT(s.message(), HasSubstr("1..1000"));
}

TEST(RequestMapping, UnknownEnumValuesAreRefused) {
  v1::EmbedRequest r;
  r.add_inputs("a");
  r.set_pooling(static_cast<v1::Pooling>(7));
  EXPECT_THAT(MapEmbedRequest(r, {}).status().message(), HasSubstr("pooling"));
  r.set_pooling(v1::POOLING_CLS);
  r.set_truncation(static_cast<v1::Truncation>(9));
  EXPECT_THAT(MapEmbedRequest(r, {}).status().message(), HasSubstr("truncation"));
}

}  // namespace
}  // namespace securebert::service
