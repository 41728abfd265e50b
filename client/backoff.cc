#include "client/backoff.h"

#include <algorithm>
#include <cmath>

namespace securebert::client {

Backoff::Backoff(const RetryOptions& options) : options_(options) {}

absl::Duration Backoff::Delay(int retry, double unit_random) const {
  const double initial_ms = static_cast<double>(std::max<int64_t>(options_.initial_backoff_ms, 0));
  const double max_ms = static_cast<double>(std::max<int64_t>(options_.max_backoff_ms, 0));
  const double grown_ms =
      initial_ms * std::pow(std::max(options_.backoff_multiplier, 1.0), std::max(retry, 0));
  const double base_ms = std::min(grown_ms, max_ms);
  const double jitter = std::clamp(options_.jitter, 0.0, 1.0);
  const double factor = 1.0 + jitter * (2.0 * std::clamp(unit_random, 0.0, 1.0) - 1.0);
  return absl::Milliseconds(std::max(base_ms * factor, 0.0));
}

}  // namespace securebert::client
