// The engine's time source: what "now" is and how to wait for a moment.
//
// Production uses Clock::Real(); tests pass a testing::FakeClock so that
// queue delays, fairness bounds and deadlines are exercised without sleeping.
//
// Thread safety: implementations are thread-safe. Clock::Real() lives for
// the whole program; any other clock must outlive the engine that uses it.
#ifndef SECUREBERT_SERVER_BATCHING_CLOCK_H_
#define SECUREBERT_SERVER_BATCHING_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace securebert::batching {

class Clock {
 public:
  virtual ~Clock() = default;

  // The process-wide wall clock.
  static Clock* Real();

  virtual absl::Time Now() = 0;

  // Waits, with `mu` held, until `cond` holds or Now() reaches `deadline`;
  // like absl::Mutex::AwaitWithDeadline, returns cond's final value. `mu` is
  // released while waiting and held again on return.
  virtual bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) = 0;
};

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_CLOCK_H_
