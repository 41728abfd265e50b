#include "batching/testing/fake_clock.h"

#include <algorithm>

namespace securebert::batching::testing {
namespace {

// What a waiter waits for: its own condition, or its deadline on the clock.
struct ConditionOrDeadline {
  const absl::Condition* cond;
  FakeClock* clock;
  absl::Time deadline;
  bool operator()() const { return cond->Eval() || clock->Now() >= deadline; }
};

}  // namespace

FakeClock::FakeClock() : now_ns_(absl::ToUnixNanos(absl::FromUnixSeconds(1700000000))) {}

absl::Time FakeClock::Now() { return absl::FromUnixNanos(now_ns_.load(std::memory_order_acquire)); }

void FakeClock::Advance(absl::Duration duration) {
  std::vector<absl::Mutex*> waiting_on;
  {
    absl::MutexLock lock(&mu_);
    now_ns_.fetch_add(absl::ToInt64Nanoseconds(duration), std::memory_order_acq_rel);
    waiting_on = waiting_on_;
  }
  // absl::Mutex re-evaluates its waiters' conditions when it is released, so
  // taking and releasing each mutex makes its waiters see the new time.
  for (absl::Mutex* mu : waiting_on) {
    mu->Lock();
    mu->Unlock();
  }
}

bool FakeClock::AwaitWithDeadline(absl::Mutex* mu, const absl::Condition& cond,
                                  absl::Time deadline) {
  {
    absl::MutexLock lock(&mu_);
    waiting_on_.push_back(mu);
  }
  const ConditionOrDeadline wake{&cond, this, deadline};
  mu->Await(absl::Condition(&wake));
  {
    absl::MutexLock lock(&mu_);
    waiting_on_.erase(std::find(waiting_on_.begin(), waiting_on_.end(), mu));
  }
  return cond.Eval();
}

int64_t FakeClock::waiters() {
  absl::MutexLock lock(&mu_);
  return static_cast<int64_t>(waiting_on_.size());
}

void FakeClock::AwaitWaiters(int64_t count) {
  absl::MutexLock lock(&mu_);
  auto enough = [this, count]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return static_cast<int64_t>(waiting_on_.size()) >= count;
  };
  mu_.Await(absl::Condition(&enough));
}

}  // namespace securebert::batching::testing
