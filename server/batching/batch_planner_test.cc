// The batching policy on hand-built waiting sets: limits, length grouping,
// the oldest entry's anchor, the fairness bound and the queue delay.
#include "batching/batch_planner.h"

#include <random>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace securebert::batching {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1000);

// Waiting entries, added oldest first.
class Waiting {
 public:
  // Adds `count` entries of `length` tokens, younger than all before them
  // (entry n is admitted n microseconds after kStart).
  Waiting& Add(int32_t length, int32_t count = 1) {
    for (int32_t i = 0; i < count; ++i) {
      QueueEntry entry;
      entry.num_tokens = length;
      entry.arrival = next_arrival_++;
      entry.enqueued = kStart + absl::Microseconds(entry.arrival);
      buckets_[length].push_back(std::move(entry));
    }
    return *this;
  }
  const LengthBuckets& buckets() const { return buckets_; }

 private:
  LengthBuckets buckets_;
  uint64_t next_arrival_ = 0;
};

EngineOptions Options() {
  EngineOptions options;
  options.max_batch_tokens = 1024;
  options.max_batch_size = 4;
  options.fairness_bound_us = 100000;
  options.min_padding_efficiency = 0.9;
  return options;
}

using Takes = std::vector<std::pair<int32_t, int32_t>>;

TEST(BatchPlannerTest, NothingWaitingPlansNothing) {
  const BatchPlan plan = BatchPlanner(Options()).Plan({}, {kStart});
  EXPECT_TRUE(plan.takes.empty());
  EXPECT_EQ(plan.rows, 0);
}

TEST(BatchPlannerTest, RowCapIsTheSmallerOfSizeAndBudget) {
  const BatchPlanner planner(Options());
  EXPECT_EQ(planner.RowCap(10), 4);   // max_batch_size
  EXPECT_EQ(planner.RowCap(300), 3);  // 1024 / 300
  EXPECT_EQ(planner.RowCap(1024), 1);
  EXPECT_EQ(planner.RowCap(2000), 1);  // past the budget: alone
}

TEST(BatchPlannerTest, FillsToTheRowCap) {
  Waiting waiting;
  waiting.Add(10, 6);
  const BatchPlan plan = BatchPlanner(Options()).Plan(waiting.buckets(), {kStart});
  EXPECT_EQ(plan.takes, (Takes{{10, 4}}));
  EXPECT_TRUE(plan.full);
  EXPECT_EQ(plan.real_tokens, 40);
}

TEST(BatchPlannerTest, FillsToTheTokenBudget) {
  Waiting waiting;
  waiting.Add(300, 5);
  const BatchPlan plan = BatchPlanner(Options()).Plan(waiting.buckets(), {kStart});
  EXPECT_EQ(plan.takes, (Takes{{300, 3}}));
  EXPECT_LE(plan.rows * plan.seq_len, 1024);
}

TEST(BatchPlannerTest, DoesNotPadShortEntriesToLongOnes) {
  Waiting waiting;
  waiting.Add(200).Add(10).Add(11).Add(190);
  const BatchPlan plan = BatchPlanner(Options()).Plan(waiting.buckets(), {kStart});
  // The oldest (200) runs with its length neighbour, not with 10 and 11.
  EXPECT_EQ(plan.takes, (Takes{{200, 1}, {190, 1}}));
  EXPECT_GE(static_cast<double>(plan.real_tokens) / (plan.rows * plan.seq_len), 0.9);
}

TEST(BatchPlannerTest, ShortOldestEntryRidesWithLongerOnesWhenEfficient) {
  Waiting waiting;
  waiting.Add(95).Add(100, 3);
  const BatchPlan plan = BatchPlanner(Options()).Plan(waiting.buckets(), {kStart});
  EXPECT_EQ(plan.takes, (Takes{{100, 3}, {95, 1}}));
  EXPECT_TRUE(plan.full);
}

TEST(BatchPlannerTest, AFullWindowGoesBeforeTheOldestUntilTheFairnessBound) {
  Waiting waiting;
  waiting.Add(256).Add(10, 5);
  const BatchPlanner planner(Options());
  const BatchPlan early = planner.Plan(waiting.buckets(), {kStart});
  EXPECT_EQ(early.takes, (Takes{{10, 4}}));
  const BatchPlan overdue = planner.Plan(waiting.buckets(), {kStart + absl::Microseconds(100000)});
  EXPECT_EQ(overdue.takes, (Takes{{256, 1}}));
}

TEST(BatchPlannerTest, AFullWindowGoesBeforeTheOldestUntilTheTokenBound) {
  Waiting waiting;
  waiting.Add(256).Add(10, 5);
  const BatchPlanner planner(Options());  // fairness_bound_tokens = 1024
  // The queue has cut 1023 padded tokens since the oldest arrived: one more
  // full window may pass it; at 1024 it is overdue and runs next.
  const BatchPlan early = planner.Plan(waiting.buckets(), {kStart, 1023});
  EXPECT_EQ(early.takes, (Takes{{10, 4}}));
  const BatchPlan overdue = planner.Plan(waiting.buckets(), {kStart, 1024});
  EXPECT_EQ(overdue.takes, (Takes{{256, 1}}));
}

TEST(BatchPlannerTest, ZeroTokenBoundServesTheOldestFirst) {
  EngineOptions options = Options();
  options.fairness_bound_tokens = 0;
  Waiting waiting;
  waiting.Add(256).Add(10, 5);
  EXPECT_EQ(BatchPlanner(options).Plan(waiting.buckets(), {kStart}).takes, (Takes{{256, 1}}));
}

TEST(BatchPlannerTest, WithoutAFullWindowTheOldestRunsFirst) {
  Waiting waiting;
  waiting.Add(256).Add(10, 2);
  const BatchPlan plan = BatchPlanner(Options()).Plan(waiting.buckets(), {kStart});
  EXPECT_EQ(plan.takes, (Takes{{256, 1}}));
}

TEST(BatchPlannerTest, QueueDelayWaitsFromTheOldestEntryUnlessFull) {
  EngineOptions options = Options();
  options.max_queue_delay_us = 5000;
  const BatchPlanner planner(options);
  Waiting partial;
  partial.Add(10, 2);
  EXPECT_EQ(planner.Plan(partial.buckets(), {kStart}).cut_at, kStart + absl::Microseconds(5000));
  Waiting full;
  full.Add(10, 4);
  EXPECT_EQ(planner.Plan(full.buckets(), {kStart}).cut_at, absl::InfinitePast());
}

TEST(BatchPlannerTest, ZeroDelayCutsNow) {
  Waiting waiting;
  waiting.Add(10);
  EXPECT_EQ(BatchPlanner(Options()).Plan(waiting.buckets(), {kStart}).cut_at, absl::InfinitePast());
}

// Random waiting sets: every plan keeps the limits and the efficiency bound,
// takes only what waits, and includes the oldest entry once it is overdue.
TEST(BatchPlannerTest, RandomWaitingSetsKeepEveryInvariant) {
  EngineOptions options;
  options.max_batch_tokens = 4096;
  options.max_batch_size = 16;
  options.fairness_bound_us = 50;
  const BatchPlanner planner(options);
  std::mt19937 rng(3);
  for (int round = 0; round < 500; ++round) {
    Waiting waiting;
    const int32_t count = std::uniform_int_distribution<int32_t>(1, 60)(rng);
    for (int32_t i = 0; i < count; ++i) {
      waiting.Add(std::uniform_int_distribution<int32_t>(1, 512)(rng));
    }
    const absl::Time now =
        kStart + absl::Microseconds(std::uniform_int_distribution<int32_t>(0, 100)(rng));
    const BatchPlan plan = planner.Plan(waiting.buckets(), {now});
    ASSERT_GE(plan.rows, 1);
    ASSERT_LE(plan.rows, 16);
    ASSERT_LE(plan.rows * plan.seq_len, 4096);
    if (plan.rows > 1) {
      ASSERT_GE(static_cast<double>(plan.real_tokens) / (plan.rows * plan.seq_len), 0.9 - 1e-9);
    }
    int32_t rows = 0;
    int64_t real = 0;
    bool has_oldest = false;
    for (const auto& [length, taken] : plan.takes) {
      const auto& bucket = waiting.buckets().at(length);
      ASSERT_LE(taken, static_cast<int32_t>(bucket.size()));
      ASSERT_LE(length, plan.seq_len);
      rows += taken;
      real += int64_t{length} * taken;
      for (int32_t i = 0; i < taken; ++i) has_oldest |= bucket[i].arrival == 0;
    }
    ASSERT_EQ(rows, plan.rows);
    ASSERT_EQ(real, plan.real_tokens);
    if (now - kStart >= absl::Microseconds(50)) {
      ASSERT_TRUE(has_oldest);
    }
  }
}

}  // namespace
}  // namespace securebert::batching
