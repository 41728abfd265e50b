// The CPU pool's contract: every task is run or refused exactly once, new
// work is bounded, continuations are not, and Stop answers what is queued.
#include "service/cpu_pool.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace securebert::service {
namespace {

// Counts how each task it makes ended.
struct Outcomes {
  std::atomic<int> ran{0};
  std::atomic<int> refused{0};
  absl::Mutex mu;
  std::vector<absl::StatusCode> codes ABSL_GUARDED_BY(mu);  // of the refusals, in order

  // Blocks until `n` tasks have been refused.
  void AwaitRefused(size_t n) {
    absl::MutexLock lock(&mu);
    auto reached = [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return codes.size() >= n; };
    mu.Await(absl::Condition(&reached));
  }
  std::vector<absl::StatusCode> Codes() {
    absl::MutexLock lock(&mu);
    return codes;
  }

  PoolTask Task() {
    return PoolTask{[this] { ran.fetch_add(1); },
                    [this](absl::Status s) {
                      refused.fetch_add(1);
                      absl::MutexLock lock(&mu);
                      codes.push_back(s.code());
                    }};
  }
};

// A task that occupies a pool thread until released.
struct Blocker {
  absl::Notification started, release;
  PoolTask Task() {
    return PoolTask{[this] {
                      started.Notify();
                      release.WaitForNotification();
                    },
                    [](absl::Status) {}};
  }
};

TEST(CpuPool, RunsEveryAcceptedTask) {
  Outcomes outcomes;
  {
    CpuPool pool({.threads = 3, .max_queued = 10000});
    for (int i = 0; i < 1000; ++i) pool.Submit(outcomes.Task());
    EXPECT_TRUE(pool.AwaitIdle(absl::InfiniteFuture()));
  }
  EXPECT_EQ(outcomes.ran.load(), 1000);
  EXPECT_EQ(outcomes.refused.load(), 0);
}

TEST(CpuPool, FullQueueRefusesNewWorkAtOnceButNeverAContinuation) {
  Blocker blocker;
  Outcomes outcomes;
  CpuPool pool({.threads = 1, .max_queued = 2});
  pool.Submit(blocker.Task());
  blocker.started.WaitForNotification();  // the only thread is busy now
  pool.Submit(outcomes.Task());
  pool.Submit(outcomes.Task());
  pool.Submit(outcomes.Task());  // the third new task is one too many
  EXPECT_EQ(outcomes.refused.load(), 1);
  EXPECT_EQ(outcomes.Codes(), std::vector<absl::StatusCode>{absl::StatusCode::kResourceExhausted});
  for (int i = 0; i < 10; ++i) pool.Continue(outcomes.Task());  // accepted work: never refused
  EXPECT_EQ(outcomes.refused.load(), 1);
  blocker.release.Notify();
  EXPECT_TRUE(pool.AwaitIdle(absl::InfiniteFuture()));
  EXPECT_EQ(outcomes.ran.load(), 12);
}

TEST(CpuPool, ContinuationsRunBeforeNewWork) {
  Blocker blocker;
  std::vector<char> order;  // appended on the pool's single thread
  CpuPool pool({.threads = 1, .max_queued = 10});
  pool.Submit(blocker.Task());
  blocker.started.WaitForNotification();
  pool.Submit(PoolTask{[&] { order.push_back('n'); }, [](absl::Status) {}});
  pool.Continue(PoolTask{[&] { order.push_back('c'); }, [](absl::Status) {}});
  blocker.release.Notify();
  ASSERT_TRUE(pool.AwaitIdle(absl::InfiniteFuture()));
  EXPECT_EQ(order, (std::vector<char>{'c', 'n'}));
}

TEST(CpuPool, StopAcceptingRefusesNewWorkAndKeepsContinuing) {
  Outcomes outcomes;
  CpuPool pool({.threads = 2, .max_queued = 100});
  for (int i = 0; i < 50; ++i) pool.Submit(outcomes.Task());
  pool.StopAccepting();
  pool.Submit(outcomes.Task());
  pool.Continue(outcomes.Task());
  EXPECT_TRUE(pool.AwaitIdle(absl::InfiniteFuture()));
  EXPECT_EQ(outcomes.ran.load(), 51);
  EXPECT_EQ(outcomes.Codes(), std::vector<absl::StatusCode>{absl::StatusCode::kUnavailable});
}

TEST(CpuPool, StopAnswersQueuedTasksUnavailableThenJoins) {
  Blocker blocker;
  Outcomes outcomes;
  CpuPool pool({.threads = 1, .max_queued = 100});
  pool.Submit(blocker.Task());
  blocker.started.WaitForNotification();
  for (int i = 0; i < 5; ++i) pool.Submit(outcomes.Task());
  for (int i = 0; i < 3; ++i) pool.Continue(outcomes.Task());
  EXPECT_FALSE(pool.AwaitIdle(absl::Now()));
  // Stop refuses the 8 queued tasks before it waits for the running one, so
  // their callers are answered even while a long task holds the thread.
  std::thread stopper([&] { pool.Stop(); });
  outcomes.AwaitRefused(8);
  blocker.release.Notify();
  stopper.join();
  EXPECT_EQ(outcomes.ran.load(), 0);
  EXPECT_EQ(outcomes.Codes(), std::vector<absl::StatusCode>(8, absl::StatusCode::kUnavailable));
  // Once stopped, every task is refused inline.
  pool.Submit(outcomes.Task());
  pool.Continue(outcomes.Task());
  EXPECT_EQ(outcomes.refused.load(), 10);
  pool.Stop();  // idempotent
}

}  // namespace
}  // namespace securebert::service
