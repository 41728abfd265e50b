#include "client/load/load_stats.h"

#include <algorithm>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace securebert::client {
namespace {

absl::Duration Ms(int64_t ms) { return absl::Milliseconds(ms); }

TEST(LoadStatsTest, ExactPercentilesOfOneToHundred) {
  LoadStats stats;
  // Recorded in a shuffled order: the summary must not depend on it.
  std::vector<int> values(100);
  for (int i = 0; i < 100; ++i) values[i] = i + 1;
  std::shuffle(values.begin(), values.end(), std::mt19937(7));
  for (int v : values) stats.Record(Ms(v), absl::OkStatus(), 10);

  const StatsSummary summary = stats.Summarize();
  EXPECT_EQ(summary.count, 100);
  EXPECT_EQ(summary.ok, 100);
  EXPECT_EQ(summary.tokens, 1000);
  EXPECT_EQ(summary.latency.min, Ms(1));
  EXPECT_EQ(summary.latency.p50, Ms(50));
  EXPECT_EQ(summary.latency.p90, Ms(90));
  EXPECT_EQ(summary.latency.p95, Ms(95));
  EXPECT_EQ(summary.latency.p99, Ms(99));
  EXPECT_EQ(summary.latency.max, Ms(100));
  EXPECT_EQ(summary.latency.mean, absl::Microseconds(50500));
}

TEST(LoadStatsTest, OutsideTheModelIsLatencyMinusTheServersForward) {
  LoadStats stats;
  // Latencies 11..20 ms around forwards of 10 ms: 1..10 ms outside.
  for (int i = 1; i <= 10; ++i) stats.Record(Ms(10 + i), absl::OkStatus(), 5, Ms(10));
  // Unknown forward time (Tokenize) and failures do not count there.
  stats.Record(Ms(3), absl::OkStatus(), 5);
  stats.Record(Ms(50), absl::UnavailableError("x"), 0, Ms(40));
  const StatsSummary summary = stats.Summarize();
  EXPECT_EQ(summary.count, 12);
  EXPECT_EQ(summary.with_model_time, 10);
  EXPECT_EQ(summary.outside_model.min, Ms(1));
  EXPECT_EQ(summary.outside_model.p50, Ms(5));
  EXPECT_EQ(summary.outside_model.p99, Ms(10));
  EXPECT_EQ(summary.outside_model.mean, absl::Microseconds(5500));
}

TEST(LoadStatsTest, NearestRankOnSmallSets) {
  const std::vector<absl::Duration> sorted = {Ms(10), Ms(20), Ms(30), Ms(40)};
  EXPECT_EQ(LoadStats::Percentile(sorted, 50), Ms(20));  // rank 2
  EXPECT_EQ(LoadStats::Percentile(sorted, 51), Ms(30));  // rank ceil(2.04) = 3
  EXPECT_EQ(LoadStats::Percentile(sorted, 99), Ms(40));  // rank 4
  EXPECT_EQ(LoadStats::Percentile(sorted, 1), Ms(10));   // rank 1
  EXPECT_EQ(LoadStats::Percentile({Ms(7)}, 99.9), Ms(7));
}

TEST(LoadStatsTest, CodesTokensAndErrorSamples) {
  LoadStats::Options options;
  options.max_error_samples = 2;
  LoadStats stats(options);
  stats.Record(Ms(1), absl::OkStatus(), 5);
  stats.Record(Ms(2), absl::UnavailableError("draining"), 99);
  stats.Record(Ms(3), absl::UnavailableError("draining"), 0);
  stats.Record(Ms(4), absl::ResourceExhaustedError("queue full"), 0);
  stats.Record(Ms(5), absl::InvalidArgumentError("inputs[0]: no <mask>"), 0);
  stats.Record(Ms(6), absl::OkStatus(), 7);

  EXPECT_EQ(stats.count(), 6);
  EXPECT_EQ(stats.errors(), 4);
  const StatsSummary summary = stats.Summarize();
  EXPECT_EQ(summary.ok, 2);
  EXPECT_EQ(summary.tokens, 12);  // Tokens of failed requests do not count.
  EXPECT_THAT(summary.codes, ::testing::ElementsAre(::testing::Pair("INVALID_ARGUMENT", 1),
                                                    ::testing::Pair("OK", 2),
                                                    ::testing::Pair("RESOURCE_EXHAUSTED", 1),
                                                    ::testing::Pair("UNAVAILABLE", 2)));
  ASSERT_EQ(summary.errors.size(), 2u);  // The third distinct message is only counted.
  EXPECT_EQ(summary.errors[0].code, absl::StatusCode::kUnavailable);
  EXPECT_EQ(summary.errors[0].message, "draining");
  EXPECT_EQ(summary.errors[0].count, 2);
  EXPECT_EQ(summary.errors[1].message, "queue full");
}

TEST(LoadStatsTest, HistogramCountsEveryRequestOnce) {
  LoadStats stats;  // 10 buckets.
  for (int v = 10; v <= 110; ++v) stats.Record(Ms(v), absl::OkStatus(), 0);
  const StatsSummary summary = stats.Summarize();
  ASSERT_EQ(summary.histogram.size(), 10u);
  EXPECT_EQ(summary.histogram[0].upper, Ms(20));
  EXPECT_EQ(summary.histogram[0].count, 11);  // 10..20
  for (int b = 1; b < 10; ++b) EXPECT_EQ(summary.histogram[b].count, 10) << b;
  EXPECT_EQ(summary.histogram[9].upper, Ms(110));
}

TEST(LoadStatsTest, HistogramOfEqualLatenciesIsOneBucket) {
  LoadStats stats;
  for (int i = 0; i < 3; ++i) stats.Record(Ms(5), absl::OkStatus(), 0);
  const StatsSummary summary = stats.Summarize();
  ASSERT_EQ(summary.histogram.size(), 1u);
  EXPECT_EQ(summary.histogram[0].count, 3);
}

TEST(LoadStatsTest, EmptyIsAllZero) {
  const StatsSummary summary = LoadStats().Summarize();
  EXPECT_EQ(summary.count, 0);
  EXPECT_EQ(summary.latency.p99, absl::ZeroDuration());
  EXPECT_TRUE(summary.histogram.empty());
}

}  // namespace
}  // namespace securebert::client
