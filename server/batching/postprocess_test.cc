// Post-processing on a hand-built batch: unpadding, pooling, normalization,
// top-k trimming, and the output-size check.
#include "batching/postprocess.h"

#include <cmath>
#include <memory>

#include "batching/testing/engine_test_util.h"
#include "gtest/gtest.h"

namespace securebert::batching {
namespace {

using testing::EmbedRequest;
using testing::MaskRequest;

// A 2-row batch, hidden 2: row 0 has 3 real tokens, row 1 has 2 (+1 pad).
// hidden[b][t] = {b*10 + t, -(b*10 + t)}; the pad cell holds 1000.
class PostprocessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    input_.model_input.batch_size = 2;
    input_.model_input.seq_len = 3;
    input_.model_input.want_hidden = true;
    input_.first_lm_row = {-1, 0};
    for (int b = 0; b < 2; ++b) {
      for (int t = 0; t < 3; ++t) {
        const float v = (b == 1 && t == 2) ? 1000.0f : b * 10.0f + t;
        output_.hidden.push_back(v);
        output_.hidden.push_back(-v);
      }
    }
  }

  SequenceOutput Row0(Pooling pooling, bool normalize) {
    Request request = EmbedRequest({{0, 7, 2}}, pooling);
    request.normalize = normalize;
    return MakeSequenceOutput(request, 0, input_, 0, output_, 2);
  }

  BatchInput input_;
  ModelOutput output_;
};

TEST_F(PostprocessTest, NoPoolingReturnsRealTokensOnly) {
  Request request = EmbedRequest({{0, 2}}, Pooling::kNone);
  const SequenceOutput out = MakeSequenceOutput(request, 0, input_, 1, output_, 2);
  EXPECT_EQ(out.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(out.values, (std::vector<float>{10, -10, 11, -11}));
  EXPECT_EQ(out.num_tokens, 2u);
}

TEST_F(PostprocessTest, ClsTakesTheFirstToken) {
  EXPECT_EQ(Row0(Pooling::kCls, false).values, (std::vector<float>{0, 0}));
}

TEST_F(PostprocessTest, MeanAveragesRealTokensIncludingSpecials) {
  const SequenceOutput out = Row0(Pooling::kMean, false);
  EXPECT_EQ(out.shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(out.values, (std::vector<float>{1, -1}));
}

TEST_F(PostprocessTest, MeanIgnoresPadding) {
  Request request = EmbedRequest({{0, 2}}, Pooling::kMean);
  const SequenceOutput out = MakeSequenceOutput(request, 0, input_, 1, output_, 2);
  EXPECT_EQ(out.values, (std::vector<float>{10.5f, -10.5f}));
}

TEST_F(PostprocessTest, NormalizeMakesPooledVectorsUnitLength) {
  const SequenceOutput out = Row0(Pooling::kMean, true);
  EXPECT_NEAR(out.values[0], 1 / std::sqrt(2.0f), 1e-6);
  EXPECT_NEAR(out.values[1], -1 / std::sqrt(2.0f), 1e-6);
}

TEST_F(PostprocessTest, L2NormalizeLeavesZeroVectorsAlone) {
  std::vector<float> zeros = {0, 0, 0};
  L2Normalize(&zeros);
  EXPECT_EQ(zeros, (std::vector<float>{0, 0, 0}));
}

TEST_F(PostprocessTest, TopKIsTrimmedToWhatTheRequestAsked) {
  input_.model_input.lm_rows = {{1, 1}};
  input_.model_input.top_k = 3;
  output_.topk_ids = {5, 6, 7};
  output_.topk_scores = {0.5f, 0.25f, 0.125f};
  Request request = MaskRequest({{0, 3, 2}}, 2);
  const SequenceOutput out = MakeSequenceOutput(request, 0, input_, 1, output_, 2);
  ASSERT_EQ(out.masks.size(), 1u);
  EXPECT_EQ(out.masks[0].position, 1);
  EXPECT_EQ(out.masks[0].ids, (std::vector<int32_t>{5, 6}));
  EXPECT_EQ(out.masks[0].scores, (std::vector<float>{0.5f, 0.25f}));
  EXPECT_TRUE(out.values.empty());
}

TEST_F(PostprocessTest, CheckModelOutputCatchesWrongSizes) {
  EXPECT_TRUE(CheckModelOutput(input_.model_input, output_, 2).ok());
  EXPECT_EQ(CheckModelOutput(input_.model_input, output_, 3).code(), absl::StatusCode::kInternal);
  input_.model_input.lm_rows = {{1, 1}};
  input_.model_input.top_k = 3;
  EXPECT_EQ(CheckModelOutput(input_.model_input, output_, 2).code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace securebert::batching
