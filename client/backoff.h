// Exponential backoff with jitter for SecureBertClient's retries: the wait
// before retry r (0-based) is
//   min(initial * multiplier^r, max) * (1 + jitter * (2u - 1)),
// with u uniform in [0, 1) supplied by the caller, so the formula is tested
// without randomness.
//
// Immutable after construction; safe from any thread.
#ifndef SECUREBERT_CLIENT_BACKOFF_H_
#define SECUREBERT_CLIENT_BACKOFF_H_

#include "absl/time/time.h"
#include "client/client_options.h"

namespace securebert::client {

class Backoff {
 public:
  explicit Backoff(const RetryOptions& options);

  // The wait before retry `retry` (0 for the first retry), given a uniform
  // random number `unit_random` in [0, 1). Never negative.
  absl::Duration Delay(int retry, double unit_random) const;

 private:
  const RetryOptions options_;
};

}  // namespace securebert::client

#endif  // SECUREBERT_CLIENT_BACKOFF_H_
