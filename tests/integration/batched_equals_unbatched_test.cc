// The engine on the tiny TorchScript model: results computed in padded,
// mixed-length batches equal the same requests run one row at a time
// (max_batch_size=1), within 1e-4, for every pooling and for PredictMask.
#include <algorithm>
#include <cmath>
#include <random>

#include "absl/synchronization/notification.h"
#include "batching/engine.h"
#include "gtest/gtest.h"
#include "model/torch_model.h"
#include "tests/testing/model_dir.h"

namespace securebert {
namespace {

using batching::Pooling;
using batching::Request;

constexpr float kTolerance = 1e-4f;
constexpr int32_t kMaskId = 50264;

std::vector<Request> MakeRequests(Request::Kind kind, Pooling pooling, bool normalize) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> id(4, 50000);
  std::vector<Request> requests;
  for (int i = 0; i < 24; ++i) {
    Request r;
    r.kind = kind;
    r.pooling = pooling;
    r.normalize = normalize;
    r.top_k = 5;
    std::vector<int32_t> seq = {0};
    const int length = 3 + (i * 37) % 90;  // 3..92, interleaved lengths
    for (int t = 0; t < length; ++t) seq.push_back(id(rng));
    seq.push_back(2);
    if (kind == Request::Kind::kPredictMask) {
      std::vector<int32_t> masks = {1 + i % length};
      if (length > 10) masks.push_back(length - 1);
      std::sort(masks.begin(), masks.end());
      masks.erase(std::unique(masks.begin(), masks.end()), masks.end());
      for (int32_t m : masks) seq[m] = kMaskId;
      r.mask_positions.push_back(masks);
    }
    r.sequences.push_back(std::move(seq));
    requests.push_back(std::move(r));
  }
  return requests;
}

// Submits every request at once (so batches form), waits for all answers.
std::vector<batching::Response> RunAll(batching::Engine& engine, std::vector<Request> requests) {
  std::vector<absl::StatusOr<batching::Response>> results(requests.size());
  std::vector<absl::Notification> done(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    absl::Status s =
        engine.Submit(std::move(requests[i]), [&, i](absl::StatusOr<batching::Response> r) {
          results[i] = std::move(r);
          done[i].Notify();
        });
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) done[i].Notify();
  }
  std::vector<batching::Response> responses;
  for (size_t i = 0; i < requests.size(); ++i) {
    done[i].WaitForNotification();
    EXPECT_TRUE(results[i].ok()) << results[i].status();
    responses.push_back(results[i].ok() ? *results[i] : batching::Response{});
  }
  return responses;
}

std::unique_ptr<batching::Engine> MakeEngine(const std::shared_ptr<model::TorchModel>& model,
                                             int32_t max_batch_size) {
  batching::EngineOptions options;
  options.max_batch_size = max_batch_size;
  options.warmup_seq_lens_tokens.clear();
  std::vector<std::unique_ptr<batching::Model>> instances;
  instances.push_back(model->NewInstance(1));
  auto engine = batching::Engine::Create(options, std::move(instances), nullptr);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
}

class BatchedEqualsUnbatched : public ::testing::Test {
 protected:
  void SetUp() override {
    auto model = model::TorchModel::Load(testing::TinyModelDir(), {});
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *model;
  }

  void Compare(Request::Kind kind, Pooling pooling, bool normalize) {
    auto batched_engine = MakeEngine(model_, 32);
    auto single_engine = MakeEngine(model_, 1);
    const auto batched = RunAll(*batched_engine, MakeRequests(kind, pooling, normalize));
    const auto single = RunAll(*single_engine, MakeRequests(kind, pooling, normalize));
    int32_t largest_batch = 0;
    float worst = 0;
    for (size_t i = 0; i < batched.size(); ++i) {
      largest_batch = std::max(largest_batch, batched[i].timing.batch_size);
      EXPECT_EQ(single[i].timing.batch_size, 1);
      const auto& a = batched[i].outputs.at(0);
      const auto& b = single[i].outputs.at(0);
      EXPECT_EQ(a.shape, b.shape);
      ASSERT_EQ(a.values.size(), b.values.size());
      for (size_t k = 0; k < a.values.size(); ++k) {
        worst = std::max(worst, std::fabs(a.values[k] - b.values[k]));
      }
      ASSERT_EQ(a.masks.size(), b.masks.size());
      for (size_t m = 0; m < a.masks.size(); ++m) {
        EXPECT_EQ(a.masks[m].position, b.masks[m].position);
        ASSERT_EQ(a.masks[m].scores.size(), 5u);
        for (size_t k = 0; k < 5; ++k) {
          worst = std::max(worst, std::fabs(a.masks[m].scores[k] - b.masks[m].scores[k]));
        }
      }
    }
    EXPECT_GT(largest_batch, 1) << "the batched engine never batched";
    EXPECT_LE(worst, kTolerance);
    std::cout << "max abs diff batched vs unbatched: " << worst << " (largest batch "
              << largest_batch << ")\n";
  }

  std::shared_ptr<model::TorchModel> model_;
};

TEST_F(BatchedEqualsUnbatched, EmbedAllTokens) {
  Compare(Request::Kind::kEmbed, Pooling::kNone, false);
}
TEST_F(BatchedEqualsUnbatched, EmbedCls) { Compare(Request::Kind::kEmbed, Pooling::kCls, false); }
TEST_F(BatchedEqualsUnbatched, EmbedMean) { Compare(Request::Kind::kEmbed, Pooling::kMean, false); }
TEST_F(BatchedEqualsUnbatched, EmbedMeanNormalized) {
  Compare(Request::Kind::kEmbed, Pooling::kMean, true);
}
TEST_F(BatchedEqualsUnbatched, PredictMask) {
  Compare(Request::Kind::kPredictMask, Pooling::kNone, false);
}

}  // namespace
}  // namespace securebert
