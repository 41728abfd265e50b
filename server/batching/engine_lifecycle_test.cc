// The engine's contract around batches, with fake models: creation checks,
// drops before compute, admission, model failures, drain, shutdown and
// warm-up. No sleeps: forwards are held by a ForwardGate and time moves on a
// FakeClock.
#include "batching/engine.h"

#include <atomic>
#include <memory>
#include <set>
#include <tuple>
#include <vector>

#include "batching/testing/engine_fixture.h"
#include "gtest/gtest.h"

namespace securebert::batching {
namespace {

using testing::EmbedRequest;
using testing::Reply;
using testing::SeenBatch;
using testing::Sequence;

class EngineLifecycleTest : public testing::EngineFixture {};

TEST_F(EngineLifecycleTest, CreateRejectsAnEmptyBudget) {
  EngineOptions options = Options();
  options.max_batch_tokens = -3;
  auto engine = Engine::Create(options, Models({}), nullptr, &clock_);
  ASSERT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(engine.status().message().find("max_batch_tokens=-3"), std::string::npos);
}

TEST_F(EngineLifecycleTest, CreateRejectsNoInstances) {
  auto engine = Engine::Create(Options(), {}, nullptr, &clock_);
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineLifecycleTest, ExpiredEntriesAreDroppedBeforeCompute) {
  Engine& engine = Start(Options());
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  Request expiring = EmbedRequest({Sequence(5, 1), Sequence(9, 2)}, Pooling::kCls);
  expiring.deadline = clock_.Now() + absl::Milliseconds(10);
  Reply& expired_reply = NewReply();
  Reply& live_reply = NewReply();
  ASSERT_TRUE(engine.Submit(expiring, expired_reply.Callback()).ok());
  ASSERT_TRUE(SubmitCls(5, 3, &live_reply).ok());
  clock_.Advance(absl::Milliseconds(10));
  gate_.Open();
  EXPECT_EQ(expired_reply.Await().status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(live_reply.Await().ok());
  ASSERT_TRUE(engine.AwaitIdle(absl::InfiniteDuration()));
  EXPECT_EQ(expired_reply.calls(), 1);  // once for the whole request
  for (const SeenBatch& batch : Batches()) {
    EXPECT_EQ(batch.tags, std::vector<int32_t>{3});  // no expired row ran
  }
  EXPECT_EQ(observer_.dropped(absl::StatusCode::kDeadlineExceeded), 1);
}

TEST_F(EngineLifecycleTest, CancelledEntriesAreDroppedBeforeCompute) {
  Engine& engine = Start(Options());
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  Request request = EmbedRequest({Sequence(5, 1)}, Pooling::kCls);
  request.cancelled = cancelled;
  Reply& reply = NewReply();
  ASSERT_TRUE(engine.Submit(request, reply.Callback()).ok());
  cancelled->store(true);
  gate_.Open();
  EXPECT_EQ(reply.Await().status().code(), absl::StatusCode::kCancelled);
  ASSERT_TRUE(engine.AwaitIdle(absl::InfiniteDuration()));
  EXPECT_TRUE(Batches().empty());
  EXPECT_EQ(reply.calls(), 1);
}

TEST_F(EngineLifecycleTest, DeadRequestsAreRefusedAtSubmit) {
  Engine& engine = Start(Options());
  Request expired = EmbedRequest({Sequence(5, 1)}, Pooling::kCls);
  expired.deadline = clock_.Now();
  Reply& reply = NewReply();
  EXPECT_EQ(engine.Submit(expired, reply.Callback()).code(), absl::StatusCode::kDeadlineExceeded);
  Request cancelled = EmbedRequest({Sequence(5, 1)}, Pooling::kCls);
  cancelled.cancelled = std::make_shared<std::atomic<bool>>(true);
  EXPECT_EQ(engine.Submit(cancelled, reply.Callback()).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(engine.Submit(EmbedRequest({}, Pooling::kCls), reply.Callback()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reply.calls(), 0);
  EXPECT_EQ(observer_.rejected(absl::StatusCode::kInvalidArgument), 1);
}

TEST_F(EngineLifecycleTest, FullQueueRefusesAtOnceAndAcceptedWorkCompletes) {
  EngineOptions options = Options();
  options.max_concurrent_requests = 3;
  Engine& engine = Start(options);
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  std::vector<Reply*> replies = NewReplies(3);
  ASSERT_TRUE(SubmitCls(5, 1, replies[0]).ok());
  ASSERT_TRUE(SubmitCls(5, 2, replies[1]).ok());
  const absl::Status refused =
      engine.Submit(EmbedRequest({Sequence(5, 3)}, Pooling::kCls), replies[2]->Callback());
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message().rfind("server overloaded:", 0), 0u) << refused.message();
  EXPECT_EQ(observer_.rejected(absl::StatusCode::kResourceExhausted), 1);
  gate_.Open();
  ASSERT_TRUE(engine.AwaitIdle(absl::InfiniteDuration()));
  EXPECT_TRUE(replies[0]->Await().ok());
  EXPECT_TRUE(replies[1]->Await().ok());
  EXPECT_EQ(replies[2]->calls(), 0);
  Reply& later = NewReply();
  EXPECT_TRUE(SubmitCls(5, 4, &later).ok());
  EXPECT_TRUE(later.Await().ok());
}

TEST_F(EngineLifecycleTest, ModelFailureAnswersInternalAndTheWorkerKeepsServing) {
  Engine& engine = Start(Options(), Instances{1, /*poison_id=*/666}, &clock_);
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  Reply& poisoned = NewReply();
  Reply& neighbour = NewReply();
  ASSERT_TRUE(engine
                  .Submit(EmbedRequest({Sequence(5, 666), Sequence(9, 1)}, Pooling::kCls),
                          poisoned.Callback())
                  .ok());
  ASSERT_TRUE(SubmitCls(5, 2, &neighbour).ok());
  gate_.Open();
  EXPECT_EQ(poisoned.Await().status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(neighbour.Await().status().code(), absl::StatusCode::kInternal);
  Reply& after = NewReply();
  ASSERT_TRUE(SubmitCls(5, 3, &after).ok());
  EXPECT_TRUE(after.Await().ok());
  ASSERT_TRUE(engine.AwaitIdle(absl::InfiniteDuration()));
  EXPECT_EQ(poisoned.calls(), 1);
  EXPECT_EQ(observer_.dropped(absl::StatusCode::kInternal), 2);
}

TEST_F(EngineLifecycleTest, OutOfMemorySplitsTheBatchAndRetriesBeforeFailing) {
  // Forwards over 20 padded tokens run out of memory (an injected CUDA OOM).
  Engine& engine = Start(Options(), Instances{1, -1, /*oom_above_padded_tokens=*/20}, &clock_);
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  std::vector<Request> requests;
  std::vector<Reply*> replies = NewReplies(5);
  for (int32_t i = 0; i < 5; ++i) {
    requests.push_back(EmbedRequest({Sequence(10, 10 + i)}, Pooling::kMean));
    ASSERT_TRUE(engine.Submit(requests.back(), replies[i]->Callback()).ok());
  }
  gate_.Open();
  // The five rows ran as one batch (50 tokens: out of memory), then halves
  // of it, down to parts of at most two rows, and every answer is right.
  for (int32_t i = 0; i < 5; ++i) {
    auto response = replies[i]->Await();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_TRUE(testing::MatchesFake(requests[i], *response, kHidden, kVocab));
  }
  ASSERT_TRUE(engine.AwaitIdle(absl::InfiniteDuration()));
  std::vector<int32_t> rows;
  for (const SeenBatch& batch : Batches()) rows.push_back(batch.rows);
  EXPECT_EQ(rows, (std::vector<int32_t>{5, 2, 3, 1, 2}));
  int failed = 0;
  for (const BatchStats& stats : observer_.batches()) {
    failed += stats.code == absl::StatusCode::kResourceExhausted ? 1 : 0;
  }
  EXPECT_EQ(failed, 2);  // the 5-row and the 3-row attempts
  // A single input that does not fit fails RESOURCE_EXHAUSTED, not INTERNAL;
  // the worker keeps serving.
  Reply& too_long = NewReply();
  ASSERT_TRUE(SubmitCls(30, 7, &too_long).ok());
  const absl::Status status = too_long.Await().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("out of memory"), std::string::npos) << status;
  Reply& after = NewReply();
  ASSERT_TRUE(SubmitCls(5, 8, &after).ok());
  EXPECT_TRUE(after.Await().ok());
}

TEST_F(EngineLifecycleTest, DrainRefusesNewWorkAndFinishesQueuedWork) {
  Engine& engine = Start(Options());
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  std::vector<Reply*> queued = NewReplies(3);
  for (size_t i = 0; i < queued.size(); ++i) {
    ASSERT_TRUE(SubmitCls(5, 1, queued[i]).ok());
  }
  engine.StartDrain();
  Reply& refused = NewReply();
  EXPECT_EQ(SubmitCls(5, 2, &refused).code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(engine.AwaitIdle(absl::ZeroDuration()));
  gate_.Open();
  EXPECT_TRUE(engine.AwaitIdle(absl::InfiniteDuration()));
  for (Reply* reply : queued) EXPECT_TRUE(reply->Await().ok());
}

TEST_F(EngineLifecycleTest, DestructorAnswersQueuedWorkUnavailable) {
  EngineOptions options = Options();
  options.max_queue_delay_us = 1000000;  // the worker waits for more
  Start(options);
  std::vector<Reply*> queued = NewReplies(3);
  for (size_t i = 0; i < queued.size(); ++i) {
    ASSERT_TRUE(SubmitCls(5, 1, queued[i]).ok());
  }
  clock_.AwaitWaiters(1);  // the worker is waiting for a fuller batch
  engine_.reset();
  for (Reply* reply : queued) {
    EXPECT_EQ(reply->Await().status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(reply->calls(), 1);
  }
  EXPECT_TRUE(log_.batches().empty());
}

TEST_F(EngineLifecycleTest, WarmupRunsEveryShapeOnEveryInstanceOnItsOwnThread) {
  EngineOptions options = Options();
  options.warmup_seq_lens_tokens = {8, 16, 1024};  // 1024 > max_input_tokens
  options.warmup_batch_sizes = {1, 2};
  Engine& engine = Start(options, Instances{2}, &clock_);
  ASSERT_TRUE(engine.Warmup().ok());
  std::set<std::tuple<int32_t, int32_t, int32_t>> shapes;
  for (const SeenBatch& batch : log_.batches()) {
    EXPECT_TRUE(batch.on_bound_thread);
    shapes.emplace(batch.instance, batch.rows, batch.seq_len);
  }
  EXPECT_EQ(log_.batches().size(), 8u);
  EXPECT_EQ(shapes.size(), 8u);
}

TEST_F(EngineLifecycleTest, WarmupReportsAModelFailure) {
  EngineOptions options = Options();
  options.warmup_seq_lens_tokens = {8};
  options.warmup_batch_sizes = {1};
  // Warm-up inputs are made of id 4.
  Engine& engine = Start(options, Instances{1, /*poison_id=*/4}, &clock_);
  EXPECT_EQ(engine.Warmup().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace securebert::batching
