// Response building on the real tokenizer: filled sequences as Hugging
// Face's fill-mask pipeline decodes them, omit_sequence, and size estimates
// that bound what is built.
#include "service/responses.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace securebert::service {
namespace {

class ResponsesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string data = std::string(SECUREBERT_SOURCE_DIR) + "/tests/data/tokenizer/";
    auto tok = tokenizer::Tokenizer::FromFiles(data + "vocab.json", data + "merges.txt");
    ASSERT_TRUE(tok.ok()) << tok.status();
    tokenizer_ = tok->release();
  }
  static void TearDownTestSuite() { delete tokenizer_; }

  // A PredictMask result for `text` whose every mask has the candidates
  // `ids`, as the engine would hand it back.
  static ModelResult MaskResult(const std::string& text, const std::vector<int32_t>& ids,
                                bool omit_sequence) {
    ModelResult result;
    const std::vector<int32_t> tokens = tokenizer_->Encode(text, {})->ids;
    batching::SequenceOutput out;
    for (size_t t = 0; t < tokens.size(); ++t) {
      if (tokens[t] != tokenizer_->mask_id()) continue;
      out.masks.push_back({static_cast<int32_t>(t), ids, std::vector<float>(ids.size(), 0.1f)});
    }
    out.num_tokens = static_cast<uint32_t>(tokens.size());
    result.response.outputs.push_back(std::move(out));
    result.response.sequences.push_back(tokens);
    result.truncated.push_back(false);
    result.omit_sequence = omit_sequence;
    return result;
  }

  static batching::Request RequestOf(const ModelResult& result, int32_t top_k) {
    batching::Request request;
    request.kind = batching::Request::Kind::kPredictMask;
    request.top_k = top_k;
    request.sequences = result.response.sequences;
    for (const auto& out : result.response.outputs) {
      std::vector<int32_t>& positions = request.mask_positions.emplace_back();
      for (const auto& mask : out.masks) positions.push_back(mask.position);
    }
    return request;
  }

  static inline tokenizer::Tokenizer* tokenizer_ = nullptr;
};

TEST_F(ResponsesTest, OneMaskFillsTheSequenceWithoutSpecialTokens) {
  const int32_t malware = tokenizer_->Encode(" malware", {.add_special_tokens = false})->ids[0];
  v1::PredictMaskResponse response;
  FillPredictMaskResponse(MaskResult("The attack used <mask>.", {malware}, false), *tokenizer_,
                          &response);
  const v1::TokenPrediction& p = response.results(0).masks(0).predictions(0);
  EXPECT_EQ(p.token(), "malware");
  EXPECT_EQ(p.sequence(), "The attack used malware.");
}

TEST_F(ResponsesTest, SeveralMasksKeepTheOtherMaskAndTheSpecialTokens) {
  const int32_t malware = tokenizer_->Encode(" malware", {.add_special_tokens = false})->ids[0];
  v1::PredictMaskResponse response;
  FillPredictMaskResponse(MaskResult("The <mask> used <mask>.", {malware}, false), *tokenizer_,
                          &response);
  ASSERT_EQ(response.results(0).masks_size(), 2);
  EXPECT_EQ(response.results(0).masks(0).predictions(0).sequence(),
            "<s>The malware used<mask>.</s>");
  EXPECT_EQ(response.results(0).masks(1).predictions(0).sequence(),
            "<s>The<mask> used malware.</s>");
}

TEST_F(ResponsesTest, OmitSequenceLeavesItEmpty) {
  v1::PredictMaskResponse response;
  FillPredictMaskResponse(MaskResult("The attack used <mask>.", {100, 200}, true), *tokenizer_,
                          &response);
  ASSERT_EQ(response.results(0).masks(0).predictions_size(), 2);
  for (const auto& p : response.results(0).masks(0).predictions()) {
    EXPECT_TRUE(p.sequence().empty());
    EXPECT_FALSE(p.token().empty());
  }
}

TEST_F(ResponsesTest, PredictMaskBoundsHoldTheBuiltAnswerBetweenThem) {
  // Long and short inputs, one and many masks, with and without sequences;
  // candidates include the vocabulary's longest tokens.
  std::vector<int32_t> candidates;
  for (int32_t id = 0; id < 1000; ++id) candidates.push_back(id * 50);
  const std::string long_text =
      std::string(300, 'x') + " <mask> " + std::string(200, 'y') + " <mask> tail";
  for (const std::string& text :
       {std::string("a <mask>"), long_text, std::string("<mask><mask><mask> ünïcödé <mask>")}) {
    for (bool omit : {false, true}) {
      const ModelResult result = MaskResult(text, candidates, omit);
      v1::PredictMaskResponse response;
      FillPredictMaskResponse(result, *tokenizer_, &response);
      const int64_t built = static_cast<int64_t>(response.ByteSizeLong());
      const int64_t before =
          MinPredictMaskResponseBytes(RequestOf(result, 1000), omit, *tokenizer_);
      const int64_t after = PredictMaskResponseBytes(result, *tokenizer_);
      EXPECT_LE(before, built) << text << " omit=" << omit;
      EXPECT_GE(after, built) << text << " omit=" << omit;
      // Bounds, not guesses: the lower one at least a third of the answer
      // when it holds texts; the upper one within 64 bytes per candidate.
      if (!omit) {
        EXPECT_GE(3 * before, built) << text;
      }
      EXPECT_LE(after, built + 64 * 1000 * response.results(0).masks_size()) << text;
    }
  }
}

TEST_F(ResponsesTest, EmbedEstimateBoundsTheBuiltAnswer) {
  for (batching::Pooling pooling : {batching::Pooling::kNone, batching::Pooling::kMean}) {
    batching::Request request;
    request.pooling = pooling;
    request.sequences = {std::vector<int32_t>(300, 5), std::vector<int32_t>(7, 5)};
    ModelResult result;
    for (const auto& ids : request.sequences) {
      batching::SequenceOutput out;
      const size_t vectors = pooling == batching::Pooling::kNone ? ids.size() : 1;
      out.values.assign(vectors * 768, 0.25f);
      out.num_tokens = static_cast<uint32_t>(ids.size());
      result.response.outputs.push_back(out);
      result.truncated.push_back(false);
    }
    v1::EmbedResponse response;
    FillEmbedResponse(result, &response);
    const int64_t built = static_cast<int64_t>(response.ByteSizeLong());
    const int64_t estimate = EstimateEmbedResponseBytes(request, 768);
    EXPECT_GE(estimate, built);
    EXPECT_LE(estimate, built + 1024);
  }
}

}  // namespace
}  // namespace securebert::service
