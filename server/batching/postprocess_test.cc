// Post-processing on a hand-built batch: each row's vectors handed over with
// their shape, normalization, top-k trimming, and the output-size check.
#include "batching/postprocess.h"

#include <cmath>
#include <memory>

#include "batching/testing/engine_test_util.h"
#include "gtest/gtest.h"

namespace securebert::batching {
namespace {

using testing::EmbedRequest;
using testing::MaskRequest;

// A 3-row batch, hidden 2, padded to 3: row 0 asks for its 3 tokens' vectors,
// row 1 (2 tokens + 1 pad) for a mean, row 2 (3 tokens) for nothing (a
// PredictMask row with one LM row).
class PostprocessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ModelInput& in = input_.model_input;
    in.batch_size = 3;
    in.seq_len = 3;
    in.attention_mask = {1, 1, 1, 1, 1, 0, 1, 1, 1};
    in.input_ids = {0, 7, 2, 0, 2, 1, 0, 3, 2};
    in.row_outputs = {RowOutput::kTokens, RowOutput::kMean, RowOutput::kNothing};
    in.lm_rows = {{2, 1}};
    in.top_k = 3;
    input_.first_lm_row = {-1, -1, 0};
    output_.embeddings = {{0, 0, 1, -1, 2, -2}, {3, 4}, {}};
    output_.topk_ids = {5, 6, 7};
    output_.topk_scores = {0.5f, 0.25f, 0.125f};
  }

  BatchInput input_;
  ModelOutput output_;
};

TEST_F(PostprocessTest, NoPoolingHandsOverEveryTokensVector) {
  const Request request = EmbedRequest({{0, 7, 2}}, Pooling::kNone);
  const SequenceOutput out = MakeSequenceOutput(request, 0, input_, 0, &output_, 2);
  EXPECT_EQ(out.shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(out.values, (std::vector<float>{0, 0, 1, -1, 2, -2}));
  EXPECT_EQ(out.num_tokens, 3u);
  EXPECT_TRUE(output_.embeddings[0].empty());  // moved, not copied
}

TEST_F(PostprocessTest, PooledRowsHaveTheHiddenShape) {
  const Request request = EmbedRequest({{0, 2}}, Pooling::kMean);
  const SequenceOutput out = MakeSequenceOutput(request, 0, input_, 1, &output_, 2);
  EXPECT_EQ(out.shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(out.values, (std::vector<float>{3, 4}));
  EXPECT_EQ(out.num_tokens, 2u);
}

TEST_F(PostprocessTest, NormalizeMakesPooledVectorsUnitLength) {
  Request request = EmbedRequest({{0, 2}}, Pooling::kMean);
  request.normalize = true;
  const SequenceOutput out = MakeSequenceOutput(request, 0, input_, 1, &output_, 2);
  EXPECT_NEAR(out.values[0], 0.6f, 1e-6);
  EXPECT_NEAR(out.values[1], 0.8f, 1e-6);
}

TEST_F(PostprocessTest, NormalizeLeavesPerTokenVectorsAlone) {
  Request request = EmbedRequest({{0, 7, 2}}, Pooling::kNone);
  request.normalize = true;
  const SequenceOutput out = MakeSequenceOutput(request, 0, input_, 0, &output_, 2);
  EXPECT_EQ(out.values, (std::vector<float>{0, 0, 1, -1, 2, -2}));
}

TEST_F(PostprocessTest, L2NormalizeLeavesZeroVectorsAlone) {
  std::vector<float> zeros = {0, 0, 0};
  L2Normalize(&zeros);
  EXPECT_EQ(zeros, (std::vector<float>{0, 0, 0}));
}

TEST_F(PostprocessTest, TopKIsTrimmedToWhatTheRequestAsked) {
  Request request = MaskRequest({{0, 3, 2}}, 2);
  const SequenceOutput out = MakeSequenceOutput(request, 0, input_, 2, &output_, 2);
  ASSERT_EQ(out.masks.size(), 1u);
  EXPECT_EQ(out.masks[0].position, 1);
  EXPECT_EQ(out.masks[0].ids, (std::vector<int32_t>{5, 6}));
  EXPECT_EQ(out.masks[0].scores, (std::vector<float>{0.5f, 0.25f}));
  EXPECT_TRUE(out.values.empty());
}

TEST_F(PostprocessTest, CheckModelOutputCatchesWrongSizes) {
  EXPECT_TRUE(CheckModelOutput(input_.model_input, output_, 2).ok());
  // A hidden size the rows do not have.
  EXPECT_EQ(CheckModelOutput(input_.model_input, output_, 3).code(), absl::StatusCode::kInternal);
  // A row's vectors that include its padding.
  ModelOutput padded = output_;
  padded.embeddings[1] = {3, 4, 5, 6, 7, 8};
  input_.model_input.row_outputs[1] = RowOutput::kTokens;
  EXPECT_EQ(CheckModelOutput(input_.model_input, padded, 2).code(), absl::StatusCode::kInternal);
  input_.model_input.row_outputs[1] = RowOutput::kMean;
  // A missing row, and missing top-k cells.
  ModelOutput short_rows = output_;
  short_rows.embeddings.pop_back();
  EXPECT_EQ(CheckModelOutput(input_.model_input, short_rows, 2).code(),
            absl::StatusCode::kInternal);
  input_.model_input.lm_rows.push_back({0, 1});
  EXPECT_EQ(CheckModelOutput(input_.model_input, output_, 2).code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace securebert::batching
