#include "client/backoff.h"

#include <gtest/gtest.h>

namespace securebert::client {
namespace {

RetryOptions Options() {
  RetryOptions options;
  options.initial_backoff_ms = 50;
  options.backoff_multiplier = 2.0;
  options.max_backoff_ms = 300;
  options.jitter = 0.2;
  return options;
}

TEST(BackoffTest, GrowsExponentiallyWithoutJitterAtMidpoint) {
  const Backoff backoff(Options());
  EXPECT_EQ(backoff.Delay(0, 0.5), absl::Milliseconds(50));
  EXPECT_EQ(backoff.Delay(1, 0.5), absl::Milliseconds(100));
  EXPECT_EQ(backoff.Delay(2, 0.5), absl::Milliseconds(200));
}

TEST(BackoffTest, CappedAtMaxBackoff) {
  const Backoff backoff(Options());
  EXPECT_EQ(backoff.Delay(3, 0.5), absl::Milliseconds(300));
  EXPECT_EQ(backoff.Delay(30, 0.5), absl::Milliseconds(300));
}

TEST(BackoffTest, JitterScalesWithinBounds) {
  const Backoff backoff(Options());
  EXPECT_EQ(backoff.Delay(1, 0.0), absl::Milliseconds(80));
  EXPECT_EQ(backoff.Delay(1, 1.0), absl::Milliseconds(120));
  for (double u = 0.0; u < 1.0; u += 0.125) {
    const absl::Duration delay = backoff.Delay(1, u);
    EXPECT_GE(delay, absl::Milliseconds(80));
    EXPECT_LE(delay, absl::Milliseconds(120));
  }
}

TEST(BackoffTest, ZeroJitterIsExact) {
  RetryOptions options = Options();
  options.jitter = 0.0;
  const Backoff backoff(options);
  EXPECT_EQ(backoff.Delay(1, 0.0), absl::Milliseconds(100));
  EXPECT_EQ(backoff.Delay(1, 0.99), absl::Milliseconds(100));
}

}  // namespace
}  // namespace securebert::client
