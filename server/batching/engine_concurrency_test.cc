// 10,000 submissions from 32 threads against 2 instances: every accepted
// request is answered exactly once, with its own outputs (no cross-talk). Runs under
// ThreadSanitizer too (ctest label `tsan`).
#include <cstdio>
#include <deque>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "batching/engine.h"
#include "batching/testing/engine_test_util.h"
#include "batching/testing/fake_model.h"
#include "gtest/gtest.h"

namespace securebert::batching {
namespace {

using testing::EmbedRequest;
using testing::FakeModel;
using testing::FakeModelOptions;
using testing::MaskRequest;
using testing::MatchesFake;
using testing::Reply;

constexpr int32_t kHidden = 4;
constexpr int32_t kVocab = 1000;
constexpr int32_t kThreads = 32;
constexpr int32_t kRequests = 10000;

// Request `n`'s inputs: each encodes n in its ids at positions 1 and 2, so
// two requests never share an input and any mix-up shows in the outputs.
std::vector<std::vector<int32_t>> InputsOf(int32_t n, std::mt19937* rng) {
  const int32_t count = std::uniform_int_distribution<int32_t>(1, 3)(*rng);
  std::vector<std::vector<int32_t>> inputs;
  for (int32_t i = 0; i < count; ++i) {
    const int32_t length = std::uniform_int_distribution<int32_t>(4, 64)(*rng);
    std::vector<int32_t> ids(length, 7 + i);
    ids[0] = 0;
    ids[1] = 10 + n % 900;
    ids[2] = 10 + n / 900 * 3 + i;
    ids[length - 1] = 2;
    inputs.push_back(std::move(ids));
  }
  return inputs;
}

Request RequestOf(int32_t n, std::mt19937* rng) {
  std::vector<std::vector<int32_t>> inputs = InputsOf(n, rng);
  switch (n % 4) {
    case 0:
      return EmbedRequest(std::move(inputs), Pooling::kNone);
    case 1:
      return EmbedRequest(std::move(inputs), Pooling::kCls);
    case 2: {
      Request request = EmbedRequest(std::move(inputs), Pooling::kMean);
      request.normalize = true;
      return request;
    }
    default:
      return MaskRequest(std::move(inputs), 1 + n % 20);
  }
}

TEST(EngineConcurrencyTest, TenThousandSubmissionsFrom32ThreadsNoLossNoCrossTalk) {
  EngineOptions options;
  options.warmup_seq_lens_tokens = {};
  // Room for everything: every submission must be accepted and answered.
  options.max_concurrent_requests = kRequests;
  options.max_queue_tokens = int64_t{1} << 24;
  std::vector<std::unique_ptr<Model>> models;
  testing::BatchLog log;
  for (int32_t i = 0; i < 2; ++i) {
    FakeModelOptions fake;
    fake.log = &log;
    fake.instance = i;
    fake.hidden_size = kHidden;
    fake.vocab_size = kVocab;
    models.push_back(std::make_unique<FakeModel>(fake));
  }
  testing::CountingObserver observer;
  std::vector<Request> requests(kRequests);
  std::deque<Reply> replies(kRequests);
  std::vector<char> accepted(kRequests, 0);  // written by one thread each
  {
    auto engine = Engine::Create(options, std::move(models), &observer);
    ASSERT_TRUE(engine.ok()) << engine.status();
    std::vector<std::thread> threads;
    for (int32_t t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937 rng(t);
        for (int32_t n = t; n < kRequests; n += kThreads) {
          requests[n] = RequestOf(n, &rng);
          const absl::Status status = (*engine)->Submit(requests[n], replies[n].Callback());
          accepted[n] = status.ok() ? 1 : 0;
          EXPECT_TRUE(status.ok()) << status;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    ASSERT_TRUE((*engine)->AwaitIdle(absl::InfiniteDuration()));
  }  // the engine is gone: nothing can answer any more
  int32_t answered = 0;
  int32_t refused = 0;
  for (int32_t n = 0; n < kRequests; ++n) {
    if (!accepted[n]) {
      ++refused;
      EXPECT_EQ(replies[n].calls(), 0) << "refused request " << n;
      continue;
    }
    ASSERT_EQ(replies[n].calls(), 1) << "request " << n;
    const absl::StatusOr<Response> response = replies[n].Await();
    ASSERT_TRUE(response.ok()) << "request " << n << ": " << response.status();
    ASSERT_TRUE(MatchesFake(requests[n], *response, kHidden, kVocab)) << "request " << n;
    ++answered;
  }
  EXPECT_EQ(answered, kRequests);
  EXPECT_EQ(refused, 0);
  // Core lending never put more forwards' cores to work than instances.
  EXPECT_LE(log.max_slots_in_use(), 2);
  EXPECT_GE(log.max_slots_in_use(), 1);
  int64_t rows = 0;
  for (const BatchStats& batch : observer.batches()) rows += batch.batch_size;
  std::printf("%d answered in %zu batches (%.1f rows each)\n", answered, observer.batches().size(),
              static_cast<double>(rows) / observer.batches().size());
}

}  // namespace
}  // namespace securebert::batching
