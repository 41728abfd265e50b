// A Clock that only moves when a test says so, for testing queue delays,
// fairness bounds and deadlines without sleeping.
//
// Thread safety: thread-safe. Advance() makes every thread blocked in
// AwaitWithDeadline re-check its condition and deadline; it must not race
// with the destruction of a mutex someone is waiting on through this clock.
#ifndef SECUREBERT_SERVER_BATCHING_TESTING_FAKE_CLOCK_H_
#define SECUREBERT_SERVER_BATCHING_TESTING_FAKE_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "batching/clock.h"

namespace securebert::batching::testing {

class FakeClock final : public Clock {
 public:
  // Starts at an arbitrary fixed time.
  FakeClock();

  absl::Time Now() override;

  // Moves time forward by `duration` and wakes waiters whose deadline passed.
  void Advance(absl::Duration duration) ABSL_LOCKS_EXCLUDED(mu_);

  bool AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond, absl::Time deadline) override
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) ABSL_LOCKS_EXCLUDED(mu_);

  // How many threads are blocked in AwaitWithDeadline now.
  int64_t waiters() ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until at least `count` threads are blocked in AwaitWithDeadline.
  void AwaitWaiters(int64_t count) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Nanoseconds since the Unix epoch; atomic so that waiters' conditions can
  // read it under their own mutex without taking mu_.
  std::atomic<int64_t> now_ns_;

  absl::Mutex mu_;
  // The mutexes of threads blocked in AwaitWithDeadline (with repeats).
  std::vector<absl::Mutex*> waiting_on_ ABSL_GUARDED_BY(mu_);
};

}  // namespace securebert::batching::testing

#endif  // SECUREBERT_SERVER_BATCHING_TESTING_FAKE_CLOCK_H_
