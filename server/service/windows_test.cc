// TRUNCATION_WINDOW's cuts and merge rule (service/windows.h), and a
// windowed request's expansion and merge (service/windowed_requests.h).
#include "service/windows.h"

#include <numeric>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/windowed_requests.h"

namespace securebert::service {
namespace {

using batching::Request;
using batching::SequenceOutput;
using ::testing::ElementsAre;

std::vector<std::pair<int32_t, int32_t>> Cuts(int32_t n, WindowShape shape) {
  std::vector<std::pair<int32_t, int32_t>> cuts;
  for (const Window& w : PlanWindows(n, shape)) cuts.emplace_back(w.start, w.start + w.length);
  return cuts;
}

TEST(Windows, AnInputThatFitsIsOneWindow) {
  const WindowShape shape{10, 4};
  EXPECT_THAT(Cuts(10, shape), ElementsAre(std::pair{0, 10}));
  EXPECT_THAT(Cuts(0, shape), ElementsAre(std::pair{0, 0}));
  EXPECT_EQ(CountWindows(10, shape), 1);
}

TEST(Windows, LongInputsAreCutEveryStepUntilTheEnd) {
  const WindowShape shape{10, 4};  // step 6
  EXPECT_THAT(Cuts(11, shape), ElementsAre(std::pair{0, 10}, std::pair{6, 11}));
  EXPECT_THAT(Cuts(16, shape), ElementsAre(std::pair{0, 10}, std::pair{6, 16}));
  EXPECT_THAT(Cuts(17, shape), ElementsAre(std::pair{0, 10}, std::pair{6, 16}, std::pair{12, 17}));
  for (int32_t n = 1; n < 200; ++n) {
    EXPECT_EQ(CountWindows(n, shape), static_cast<int32_t>(PlanWindows(n, shape).size())) << n;
    EXPECT_LE(n, MaxContentTokens(CountWindows(n, shape), shape)) << n;
  }
  // SecureBERT's: 64 windows of 510 overlapping by 128 hold 24,576 tokens.
  EXPECT_EQ(MaxContentTokens(64, WindowShape{510, 128}), 510 + 63 * 382);
}

TEST(Windows, EachTokenComesFromTheWindowWhereItIsFurthestFromACut) {
  const WindowShape shape{10, 4};
  const std::vector<Window> windows = PlanWindows(17, shape);  // [0,10) [6,16) [12,17)
  const std::vector<TokenSource> sources = ChooseSources(windows, 17);
  std::vector<int32_t> window_of;
  for (const TokenSource& s : sources) window_of.push_back(s.window);
  // Overlap [6,10): 6,7 are nearer window 0's cut at 10 than... distance in
  // window 0 is 9-p, in window 1 p-6: 6->(3,0) 7->(2,1) 8->(1,2) 9->(0,3);
  // overlap [12,16): window 1 15-p, window 2 (the document's end) uncut side
  // p-12: 12->(3,0) 13->(2,1) 14->(1,2) 15->(0,3).
  EXPECT_THAT(window_of, ElementsAre(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2));
  // Indices in the window's model input, <s> first.
  EXPECT_EQ(sources[8].index, 8 - 6 + 1);
  EXPECT_EQ(sources[16].index, 16 - 12 + 1);
  // A tie (equal distances) keeps the earlier window.
  const std::vector<Window> even = PlanWindows(14, WindowShape{10, 5});  // [0,10) [5,14)
  const std::vector<TokenSource> tied = ChooseSources(even, 14);
  EXPECT_EQ(tied[7].window, 0);  // distance 2 in both
  EXPECT_EQ(tied[8].window, 1);
}

// A request of one document of `content` tokens (ids 100 + p), <s> 0, </s> 2.
Request Document(Request::Kind kind, int32_t content) {
  Request r;
  r.kind = kind;
  std::vector<int32_t> ids = {0};
  for (int32_t p = 0; p < content; ++p) ids.push_back(100 + p);
  ids.push_back(2);
  r.sequences = {ids};
  return r;
}

TEST(WindowedRequests, InputsThatFitRunAsTheyAre) {
  Request r = Document(Request::Kind::kEmbed, 10);
  ModelResult result;
  ExpandWindows(WindowShape{10, 4}, &r, &result);
  EXPECT_EQ(r.sequences.size(), 1u);
  EXPECT_THAT(result.window_counts, ElementsAre(1u));
  EXPECT_TRUE(result.windows.empty());
}

TEST(WindowedRequests, TokenVectorsMergeBackIntoOneRowPerDocumentToken) {
  Request r = Document(Request::Kind::kEmbed, 17);
  r.pooling = batching::Pooling::kMean;
  r.normalize = true;
  ModelResult result;
  ExpandWindows(WindowShape{10, 4}, &r, &result);
  ASSERT_EQ(r.sequences.size(), 3u);
  EXPECT_THAT(r.sequences[1], ElementsAre(0, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 2));
  EXPECT_EQ(r.pooling, batching::Pooling::kNone);  // merging needs every token
  EXPECT_FALSE(r.normalize);
  // Each window answers its own tokens as [window, id] pairs (width 2).
  for (size_t k = 0; k < r.sequences.size(); ++k) {
    SequenceOutput& o = result.response.outputs.emplace_back();
    for (int32_t id : r.sequences[k]) {
      o.values.push_back(static_cast<float>(k));
      o.values.push_back(static_cast<float>(id));
    }
  }
  result.pooling = batching::Pooling::kNone;  // check the rows first
  ModelResult rows = result;
  ASSERT_TRUE(MergeWindows(Request::Kind::kEmbed, &rows).ok());
  ASSERT_EQ(rows.response.outputs.size(), 1u);
  const SequenceOutput& merged = rows.response.outputs[0];
  EXPECT_THAT(merged.shape, ElementsAre(19, 2));
  std::vector<float> windows, ids;
  for (size_t t = 0; t < 19; ++t) {
    windows.push_back(merged.values[2 * t]);
    ids.push_back(merged.values[2 * t + 1]);
  }
  EXPECT_THAT(windows, ElementsAre(0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2));
  std::vector<float> want = {0};
  for (int32_t p = 0; p < 17; ++p) want.push_back(100.0f + p);
  want.push_back(2);
  EXPECT_EQ(ids, want);  // every token once, in order
  EXPECT_EQ(rows.response.sequences[0].size(), 19u);

  result.pooling = batching::Pooling::kMean;
  ASSERT_TRUE(MergeWindows(Request::Kind::kEmbed, &result).ok());
  const std::vector<float>& mean = result.response.outputs[0].values;
  ASSERT_EQ(mean.size(), 2u);
  EXPECT_NEAR(mean[0] * mean[0] + mean[1] * mean[1], 1.0, 1e-6);  // normalized
}

TEST(WindowedRequests, MasksAreAskedOfTheirWindowAndAnsweredAtDocumentPositions) {
  Request r = Document(Request::Kind::kPredictMask, 17);
  r.mask_positions = {{2, 9, 10, 17}};  // content tokens 1, 8, 9, 16
  ModelResult result;
  ExpandWindows(WindowShape{10, 4}, &r, &result);
  ASSERT_EQ(r.mask_positions.size(), 3u);
  EXPECT_THAT(r.mask_positions[0], ElementsAre(2));
  EXPECT_THAT(r.mask_positions[1], ElementsAre(3, 4));  // content 8, 9 in window [6, 16)
  EXPECT_THAT(r.mask_positions[2], ElementsAre(5));     // content 16 in window [12, 17)
  for (const auto& positions : r.mask_positions) {
    SequenceOutput& o = result.response.outputs.emplace_back();
    for (int32_t p : positions) o.masks.push_back({p, {7}, {0.5f}});
  }
  ASSERT_TRUE(MergeWindows(Request::Kind::kPredictMask, &result).ok());
  std::vector<int32_t> positions;
  for (const auto& m : result.response.outputs[0].masks) positions.push_back(m.position);
  EXPECT_THAT(positions, ElementsAre(2, 9, 10, 17));
}

TEST(WindowedRequests, ClassifyAveragesTheWindowsLogits) {
  Request r = Document(Request::Kind::kClassify, 11);
  ModelResult result;
  ExpandWindows(WindowShape{10, 4}, &r, &result);
  ASSERT_EQ(r.sequences.size(), 2u);
  result.response.outputs.push_back({{1.0f, 4.0f}, {2}, 12, {}});
  result.response.outputs.push_back({{3.0f, 0.0f}, {2}, 7, {}});
  ASSERT_TRUE(MergeWindows(Request::Kind::kClassify, &result).ok());
  EXPECT_THAT(result.response.outputs[0].values, ElementsAre(2.0f, 2.0f));
  EXPECT_EQ(result.response.outputs[0].num_tokens, 13u);
}

TEST(WindowedRequests, OutputsOfTheWrongShapeAreAnInternalError) {
  Request r = Document(Request::Kind::kExtractEntities, 11);
  ModelResult result;
  ExpandWindows(WindowShape{10, 4}, &r, &result);
  result.response.outputs.push_back({std::vector<float>(12 * 3), {12, 3}, 12, {}});
  result.response.outputs.push_back({std::vector<float>(5), {}, 7, {}});
  EXPECT_EQ(MergeWindows(Request::Kind::kExtractEntities, &result).code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace securebert::service
