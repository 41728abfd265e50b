// BatchQueue on its own: admission bounds, drops before cutting, drain,
// stop and hand-back of what is left.
#include "batching/batch_queue.h"

#include <atomic>
#include <deque>
#include <memory>
#include <vector>

#include "batching/testing/engine_test_util.h"
#include "batching/testing/fake_clock.h"
#include "gtest/gtest.h"

namespace securebert::batching {
namespace {

using testing::EmbedRequest;
using testing::FakeClock;
using testing::Reply;
using testing::Sequence;

class BatchQueueTest : public ::testing::Test {
 protected:
  BatchQueue& Make(const EngineOptions& options) {
    queue_ = std::make_unique<BatchQueue>(options, &clock_, nullptr);
    return *queue_;
  }

  // Admits a one-input request of `length` tokens; its reply releases its
  // slot before answering and then counts as answered, like the engine does.
  absl::Status Admit(int32_t length, Request request = {}) {
    if (request.sequences.empty()) {
      request = EmbedRequest({Sequence(length, 1)}, Pooling::kCls);
    }
    Reply* reply = &replies_.emplace_back();
    const int64_t tokens = length;
    return queue_->Admit(std::move(request), [this, reply, tokens](absl::StatusOr<Response> r) {
      queue_->Release(tokens);
      reply->Callback()(std::move(r));
      queue_->Answered();
    });
  }

  FakeClock clock_;
  std::deque<Reply> replies_;
  std::unique_ptr<BatchQueue> queue_;  // last: destroyed first
};

TEST_F(BatchQueueTest, RefusesPastConcurrentRequests) {
  EngineOptions options;
  options.max_concurrent_requests = 2;
  Make(options);
  ASSERT_TRUE(Admit(5).ok());
  ASSERT_TRUE(Admit(5).ok());
  const absl::Status refused = Admit(5);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(),
            "server overloaded: 2 requests in flight "
            "(max_concurrent_requests=2); retry later");
  EXPECT_EQ(replies_.back().calls(), 0);  // its callback was dropped, uncalled
}

TEST_F(BatchQueueTest, RefusesPastQueueTokensButAdmitsALoneLargeRequest) {
  EngineOptions options;
  options.max_queue_tokens = 512;
  Make(options);
  ASSERT_TRUE(Admit(400).ok());
  const absl::Status refused = Admit(200);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("max_queue_tokens=512"), std::string::npos);
  ASSERT_TRUE(Admit(100).ok());
}

TEST_F(BatchQueueTest, CutsWhatWaitsAndReleaseFreesTheSlot) {
  EngineOptions options;
  options.max_concurrent_requests = 1;
  BatchQueue& queue = Make(options);
  ASSERT_TRUE(Admit(5).ok());
  Batch batch;
  ASSERT_TRUE(queue.NextBatch(&batch));
  ASSERT_EQ(batch.entries.size(), 1u);
  EXPECT_EQ(batch.started, clock_.Now());
  EXPECT_FALSE(queue.AwaitIdle(absl::ZeroDuration()));
  batch.entries[0].request->Fail(absl::InternalError("test"));
  EXPECT_TRUE(queue.AwaitIdle(absl::ZeroDuration()));
  EXPECT_TRUE(Admit(5).ok());
}

TEST_F(BatchQueueTest, ABatchTellsHowManySequencesStillWait) {
  // 2 and 40 tokens never share a batch (padding efficiency below 0.9), so
  // the first cut leaves one waiting, the second none: the worker borrows
  // idle cores only for the second (CoreLedger).
  EngineOptions options;
  options.max_batch_tokens = 1024;
  BatchQueue& queue = Make(options);
  ASSERT_TRUE(Admit(40).ok());
  ASSERT_TRUE(Admit(2).ok());
  Batch first;
  ASSERT_TRUE(queue.NextBatch(&first));
  ASSERT_EQ(first.entries.size(), 1u);
  EXPECT_EQ(first.left_waiting, 1);
  Batch second;
  ASSERT_TRUE(queue.NextBatch(&second));
  ASSERT_EQ(second.entries.size(), 1u);
  EXPECT_EQ(second.left_waiting, 0);
  first.entries[0].request->Fail(absl::InternalError("test"));
  second.entries[0].request->Fail(absl::InternalError("test"));
}

TEST_F(BatchQueueTest, DropsCancelledAndExpiredRequestsBeforeCutting) {
  BatchQueue& queue = Make(EngineOptions{});
  Request expiring = EmbedRequest({Sequence(5, 1), Sequence(7, 1)}, Pooling::kCls);
  expiring.deadline = clock_.Now() + absl::Milliseconds(1);
  ASSERT_TRUE(Admit(12, expiring).ok());
  Request cancelled = EmbedRequest({Sequence(5, 2)}, Pooling::kCls);
  auto flag = std::make_shared<std::atomic<bool>>(false);
  cancelled.cancelled = flag;
  ASSERT_TRUE(Admit(5, cancelled).ok());
  ASSERT_TRUE(Admit(9).ok());
  clock_.Advance(absl::Milliseconds(1));
  flag->store(true);
  Batch batch;
  ASSERT_TRUE(queue.NextBatch(&batch));
  ASSERT_EQ(batch.entries.size(), 1u);
  EXPECT_EQ(batch.entries[0].num_tokens, 9);
  EXPECT_EQ(replies_[0].Await().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(replies_[0].calls(), 1);
  EXPECT_EQ(replies_[1].Await().status().code(), absl::StatusCode::kCancelled);
}

TEST_F(BatchQueueTest, DrainRefusesNewWorkButKeepsCutting) {
  BatchQueue& queue = Make(EngineOptions{});
  ASSERT_TRUE(Admit(5).ok());
  queue.StartDrain();
  EXPECT_EQ(Admit(5).code(), absl::StatusCode::kUnavailable);
  Batch batch;
  EXPECT_TRUE(queue.NextBatch(&batch));
}

TEST_F(BatchQueueTest, StopEndsNextBatchAndHandsBackWhatWaits) {
  BatchQueue& queue = Make(EngineOptions{});
  Request two = EmbedRequest({Sequence(5, 1), Sequence(50, 1)}, Pooling::kCls);
  ASSERT_TRUE(Admit(55, two).ok());
  ASSERT_TRUE(Admit(5).ok());
  queue.Stop();
  Batch batch;
  EXPECT_FALSE(queue.NextBatch(&batch));
  EXPECT_EQ(Admit(5).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(queue.TakeAll().size(), 2u);  // distinct requests
  EXPECT_TRUE(queue.TakeAll().empty());
}

}  // namespace
}  // namespace securebert::batching
