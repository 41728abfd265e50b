// How the engine forms batches, with fake models: results per row, limits,
// length grouping and fairness, split requests, queue delay and timing. No
// sleeps: forwards are held by a ForwardGate and time moves on a FakeClock.
#include "batching/engine.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "batching/testing/engine_fixture.h"
#include "gtest/gtest.h"

namespace securebert::batching {
namespace {

using testing::EmbedRequest;
using testing::MaskRequest;
using testing::MatchesFake;
using testing::Reply;
using testing::SeenBatch;
using testing::Sequence;

class EngineBatchingTest : public testing::EngineFixture {};

TEST_F(EngineBatchingTest, EmbedPoolingsMatchTheModelRowByRow) {
  EngineOptions options = Options();
  options.min_padding_efficiency = 0.0;  // all rows in one padded batch
  Engine& engine = Start(options);
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  std::vector<Request> requests;
  requests.push_back(EmbedRequest({Sequence(7, 1), Sequence(3, 2)}, Pooling::kNone));
  requests.push_back(EmbedRequest({Sequence(6, 3)}, Pooling::kCls));
  requests.push_back(EmbedRequest({Sequence(5, 4)}, Pooling::kMean));
  requests.push_back(EmbedRequest({Sequence(7, 5)}, Pooling::kMean));
  requests.back().normalize = true;
  std::vector<Reply*> replies = NewReplies(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_TRUE(engine.Submit(requests[i], replies[i]->Callback()).ok());
  }
  gate_.Open();
  for (size_t i = 0; i < requests.size(); ++i) {
    auto response = replies[i]->Await();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_TRUE(MatchesFake(requests[i], *response, kHidden, kVocab));
  }
  // All five rows ran padded together in one batch.
  ASSERT_EQ(Batches().size(), 1u);
  EXPECT_EQ(Batches()[0].rows, 5);
}

TEST_F(EngineBatchingTest, EmbedAndPredictMaskShareABatchWithLmRowsOnlyAtMasks) {
  Engine& engine = Start(Options());
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  Request embed = EmbedRequest({Sequence(8, 1)}, Pooling::kMean);
  Request mask3 = MaskRequest({Sequence(8, 2), Sequence(9, 3)}, 3);
  Request mask7 = MaskRequest({Sequence(8, 4)}, 7);
  mask7.mask_positions = {{2, 5}};
  Reply& r1 = NewReply();
  Reply& r2 = NewReply();
  Reply& r3 = NewReply();
  ASSERT_TRUE(engine.Submit(embed, r1.Callback()).ok());
  ASSERT_TRUE(engine.Submit(mask3, r2.Callback()).ok());
  ASSERT_TRUE(engine.Submit(mask7, r3.Callback()).ok());
  gate_.Open();
  EXPECT_TRUE(MatchesFake(embed, *r1.Await(), kHidden, kVocab));
  EXPECT_TRUE(MatchesFake(mask3, *r2.Await(), kHidden, kVocab));
  EXPECT_TRUE(MatchesFake(mask7, *r3.Await(), kHidden, kVocab));
  EXPECT_EQ(r2.Await()->outputs[0].masks[0].ids.size(), 3u);  // trimmed
  const std::vector<SeenBatch> batches = Batches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].rows, 4);
  // Rows in length order: the two 8-token Embed and PredictMask rows are
  // behind the 9-token one; only the Embed row asks for a (pooled) vector.
  EXPECT_EQ(
      std::count(batches[0].row_outputs.begin(), batches[0].row_outputs.end(), RowOutput::kMean),
      1);
  EXPECT_EQ(
      std::count(batches[0].row_outputs.begin(), batches[0].row_outputs.end(), RowOutput::kNothing),
      3);
  EXPECT_EQ(batches[0].lm_rows, 4);  // 1 + 1 + 2 masks, no other positions
  EXPECT_EQ(batches[0].top_k, 7);    // the largest asked for in the batch
}

TEST_F(EngineBatchingTest, TaskHeadRowsShareABatchWithEmbedAndPredictMaskRows) {
  EngineOptions options = Options();
  options.min_padding_efficiency = 0.0;  // all rows in one padded batch
  Instances instances;
  instances.task_head = TaskHead::kTokenClassification;
  Engine& engine = Start(options, instances, &clock_);
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  Request entities = EmbedRequest({Sequence(9, 1), Sequence(4, 2)}, Pooling::kNone);
  entities.kind = Request::Kind::kExtractEntities;
  Request embed = EmbedRequest({Sequence(7, 3)}, Pooling::kCls);
  Request mask = MaskRequest({Sequence(8, 4)}, 3);
  std::vector<Request> requests = {entities, embed, mask};
  std::vector<Reply*> replies = NewReplies(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_TRUE(engine.Submit(requests[i], replies[i]->Callback()).ok());
  }
  // A Classify request needs a sequence-classification head, which this
  // model lacks: refused at the door, never batched.
  Request classify = EmbedRequest({Sequence(5, 5)}, Pooling::kNone);
  classify.kind = Request::Kind::kClassify;
  const absl::Status refused = engine.Submit(classify, NewReply().Callback());
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  gate_.Open();
  for (size_t i = 0; i < requests.size(); ++i) {
    auto response = replies[i]->Await();
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_TRUE(MatchesFake(requests[i], *response, kHidden, kVocab, kLabels)) << i;
  }
  EXPECT_EQ(replies[0]->Await()->outputs[0].shape, (std::vector<int64_t>{9, kLabels}));
  const std::vector<SeenBatch> batches = Batches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].rows, 4);
  EXPECT_EQ(std::count(batches[0].row_outputs.begin(), batches[0].row_outputs.end(),
                       RowOutput::kTokenLogits),
            2);
  EXPECT_EQ(batches[0].lm_rows, 1);
}

TEST_F(EngineBatchingTest, PredictMaskOnlyBatchSkipsHiddenStates) {
  Engine& engine = Start(Options());
  Request mask = MaskRequest({Sequence(6, 1)}, 2000 / 2);
  Reply& reply = NewReply();
  ASSERT_TRUE(engine.Submit(mask, reply.Callback()).ok());
  auto response = reply.Await();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_TRUE(MatchesFake(mask, *response, kHidden, kVocab));
  EXPECT_EQ(Batches()[0].row_outputs, std::vector<RowOutput>{RowOutput::kNothing});
  EXPECT_EQ(Batches()[0].top_k, 1000);
}

TEST_F(EngineBatchingTest, BatchesRespectTokenBudgetAndRowCap) {
  EngineOptions options = Options();
  options.max_batch_tokens = 1024;
  options.max_batch_size = 8;
  options.min_padding_efficiency = 0.0;  // only the limits bind
  Start(options);
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  std::mt19937 rng(7);
  std::vector<Reply*> replies = NewReplies(200);
  for (size_t i = 0; i < replies.size(); ++i) {
    const int32_t length = std::uniform_int_distribution<int32_t>(2, 512)(rng);
    ASSERT_TRUE(SubmitCls(length, 1, replies[i]).ok());
  }
  gate_.Open();
  for (Reply* reply : replies) ASSERT_TRUE(reply->Await().ok());
  int32_t rows = 0;
  for (const SeenBatch& batch : Batches()) {
    EXPECT_LE(batch.rows, 8);
    EXPECT_LE(batch.rows * batch.seq_len, 1024);
    rows += batch.rows;
  }
  EXPECT_EQ(rows, 200);
}

TEST_F(EngineBatchingTest, InputsLongerThanTheBudgetRunAlone) {
  // A budget below max_input_tokens (512): what fits it batches, what does not
  // runs as a batch of one, and every request is answered right.
  EngineOptions options = Options();
  options.max_batch_tokens = 256;
  options.max_batch_size = 8;
  options.min_padding_efficiency = 0.0;
  Start(options);
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  const std::vector<int32_t> lengths = {512, 300, 64, 64, 257, 64, 64, 100, 512};
  std::vector<Reply*> replies = NewReplies(lengths.size());
  for (size_t i = 0; i < lengths.size(); ++i) {
    ASSERT_TRUE(SubmitCls(lengths[i], 1, replies[i]).ok());
  }
  gate_.Open();
  for (Reply* reply : replies) ASSERT_TRUE(reply->Await().ok());
  int32_t rows = 0, alone = 0;
  for (const SeenBatch& batch : Batches()) {
    if (batch.seq_len > 256) {
      EXPECT_EQ(batch.rows, 1) << batch.seq_len;
      ++alone;
    } else {
      EXPECT_LE(batch.rows * batch.seq_len, 256);
    }
    rows += batch.rows;
  }
  EXPECT_EQ(alone, 4);  // 512, 300, 257, 512
  EXPECT_EQ(rows, static_cast<int32_t>(lengths.size()));
}

TEST_F(EngineBatchingTest, LengthGroupingKeepsPaddingLowOnAMixedStream) {
  EngineOptions options = Options();
  options.max_concurrent_requests = 2000;
  options.max_batch_tokens = 16384;  // the CUDA budget: room for big groups
  Engine& engine = Start(options, Instances{2}, &clock_);
  gate_.Close();
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> length(8, 256);
  std::vector<Reply*> replies = NewReplies(1200);
  // A stream under load: 40 requests arrive per forward that completes.
  for (size_t i = 0; i < replies.size(); ++i) {
    ASSERT_TRUE(engine
                    .Submit(EmbedRequest({Sequence(length(rng), 1)}, Pooling::kMean),
                            replies[i]->Callback())
                    .ok());
    if (i % 40 == 39) gate_.Release(1);
  }
  gate_.Open();
  for (Reply* reply : replies) ASSERT_TRUE(reply->Await().ok());
  int64_t real = 0, padded = 0, rows = 0;
  const std::vector<SeenBatch> batches = Batches();
  for (const SeenBatch& batch : batches) {
    for (int32_t l : batch.lengths) real += l;
    padded += int64_t{batch.rows} * batch.seq_len;
    rows += batch.rows;
  }
  EXPECT_EQ(rows, 1200);
  const double efficiency = static_cast<double>(real) / padded;
  RecordProperty("padding_efficiency", std::to_string(efficiency));
  RecordProperty("mean_batch_rows", std::to_string(static_cast<double>(rows) / batches.size()));
  std::printf("padding efficiency %.3f over %zu batches (%.1f rows each)\n", efficiency,
              batches.size(), static_cast<double>(rows) / batches.size());
  EXPECT_GE(efficiency, 0.9) << batches.size() << " batches";
  // Grouping must not degrade into tiny batches: on average > 8 rows.
  EXPECT_GT(static_cast<double>(rows) / batches.size(), 8.0);
}

TEST_F(EngineBatchingTest, LongInputIsNotStarvedByAStreamOfShortOnes) {
  EngineOptions options = Options();
  // A budget the long input leaves room in (under the CPU default of 128 it
  // would fill its own batch, and so run first).
  options.max_batch_tokens = 1024;
  options.max_batch_size = 4;
  options.fairness_bound_us = 100000;
  Start(options);
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  Reply& long_reply = NewReply();
  ASSERT_TRUE(SubmitCls(256, 500, &long_reply).ok());
  std::vector<Reply*> shorts = NewReplies(16);
  auto submit_shorts = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      ASSERT_TRUE(SubmitCls(10, 1, shorts[i]).ok());
    }
  };
  submit_shorts(0, 8);
  // While full batches of short inputs wait, they go first...
  gate_.Release(1);
  gate_.AwaitEntered(2);
  gate_.Release(1);
  gate_.AwaitEntered(3);
  std::vector<SeenBatch> batches = Batches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].seq_len, 10);
  EXPECT_EQ(batches[1].seq_len, 10);
  // ...until the long one has waited the fairness bound: then it runs next,
  // ahead of newer full batches.
  clock_.Advance(absl::Microseconds(100000));
  submit_shorts(8, 16);
  gate_.Release(1);
  gate_.AwaitEntered(4);
  batches = Batches();
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[2].tags, std::vector<int32_t>{500});
  gate_.Open();
  EXPECT_TRUE(long_reply.Await().ok());
  for (Reply* reply : shorts) EXPECT_TRUE(reply->Await().ok());
}

TEST_F(EngineBatchingTest, LongInputRunsOnceTheWorkCutAfterItReachesTheTokenBound) {
  EngineOptions options = Options();
  options.max_batch_tokens = 1024;  // as above
  options.max_batch_size = 4;
  options.fairness_bound_us = int64_t{1} << 40;  // time alone never binds here
  options.fairness_bound_tokens = 80;            // two full 4 x 10 batches
  Start(options);
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  Reply& long_reply = NewReply();
  ASSERT_TRUE(SubmitCls(256, 500, &long_reply).ok());
  std::vector<Reply*> shorts = NewReplies(16);
  for (Reply* reply : shorts) ASSERT_TRUE(SubmitCls(10, 1, reply).ok());
  gate_.Open();
  ASSERT_TRUE(long_reply.Await().ok());
  for (Reply* reply : shorts) EXPECT_TRUE(reply->Await().ok());
  // Two full short batches (80 padded tokens) passed the long input, then it
  // ran, ahead of the two full short batches still waiting.
  const std::vector<SeenBatch> batches = Batches();
  ASSERT_EQ(batches.size(), 5u);
  EXPECT_EQ(batches[0].seq_len, 10);
  EXPECT_EQ(batches[1].seq_len, 10);
  EXPECT_EQ(batches[2].tags, std::vector<int32_t>{500});
}

TEST_F(EngineBatchingTest, SplitRequestIsReassembledInOrder) {
  EngineOptions options = Options();
  options.max_batch_size = 2;
  Engine& engine = Start(options, Instances{2}, Clock::Real());
  std::vector<std::vector<int32_t>> sequences;
  for (int32_t i = 0; i < 9; ++i) {
    sequences.push_back(Sequence(3 + (i * 37) % 40, 10 + i));
  }
  Request request = EmbedRequest(sequences, Pooling::kNone);
  Request mask = MaskRequest(sequences, 4);
  Reply& reply = NewReply();
  Reply& mask_reply = NewReply();
  ASSERT_TRUE(engine.Submit(request, reply.Callback()).ok());
  ASSERT_TRUE(engine.Submit(mask, mask_reply.Callback()).ok());
  auto response = reply.Await();
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_TRUE(MatchesFake(request, *response, kHidden, kVocab));
  EXPECT_TRUE(MatchesFake(mask, *mask_reply.Await(), kHidden, kVocab));
  EXPECT_LE(response->timing.batch_size, 2);
  EXPECT_GE(Batches().size(), 9u);  // 18 rows, at most 2 per batch
}

TEST_F(EngineBatchingTest, QueueDelayWaitsForAFullerBatchFromTheOldestEntry) {
  EngineOptions options = Options();
  options.max_queue_delay_us = 50000;
  options.max_batch_size = 4;
  Start(options);
  std::vector<Reply*> replies = NewReplies(7);
  auto submit = [&](size_t i) { ASSERT_TRUE(SubmitCls(5, 1, replies[i]).ok()); };
  submit(0);
  clock_.AwaitWaiters(1);
  clock_.Advance(absl::Milliseconds(30));
  submit(1);
  submit(2);
  EXPECT_TRUE(log_.batches().empty());
  clock_.Advance(absl::Milliseconds(20));  // 50 ms after the oldest
  ASSERT_TRUE(replies[2]->Await().ok());
  ASSERT_EQ(log_.batches().size(), 1u);
  EXPECT_EQ(log_.batches()[0].rows, 3);
  // A full batch does not wait.
  for (size_t i = 3; i < 7; ++i) submit(i);
  ASSERT_TRUE(replies[6]->Await().ok());
  EXPECT_EQ(log_.batches()[1].rows, 4);
}

TEST_F(EngineBatchingTest, TimingIsStampedPerRequest) {
  Engine& engine = Start(Options());
  Reply& blocker = NewReply();
  HoldWorker(&blocker);
  Request request = EmbedRequest({Sequence(5, 1), Sequence(6, 2)}, Pooling::kCls);
  request.tokenize_us = 42;
  Reply& reply = NewReply();
  ASSERT_TRUE(engine.Submit(request, reply.Callback()).ok());
  clock_.Advance(absl::Microseconds(5000));  // waits behind the blocker
  gate_.Release(1);
  gate_.AwaitEntered(2);
  clock_.Advance(absl::Microseconds(7000));  // its forward takes 7 ms
  gate_.Open();
  auto response = reply.Await();
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->timing.tokenize_us, 42);
  EXPECT_EQ(response->timing.queue_us, 5000);
  EXPECT_EQ(response->timing.inference_us, 7000);
  EXPECT_EQ(response->timing.batch_size, 2);
  ASSERT_TRUE(engine.AwaitIdle(absl::InfiniteDuration()));
  const std::vector<BatchStats> stats = observer_.batches();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[1].batch_size, 2);
  EXPECT_EQ(stats[1].real_tokens, 11);
  EXPECT_EQ(stats[1].padded_tokens, 12);
  EXPECT_EQ(stats[1].max_queue_us, 5000);
  EXPECT_EQ(stats[1].compute_us, 7000);
  EXPECT_GT(observer_.depth_reports(), 0);
}

}  // namespace
}  // namespace securebert::batching
