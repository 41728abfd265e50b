#include "service/cpu_pool.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace securebert::service {
namespace {

TEST(CpuPool, RunsEveryAcceptedTask) {
  std::atomic<int> ran{0};
  {
    CpuPool pool({.threads = 3, .max_queued = 10000});
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(pool.TrySchedule([&] { ran.fetch_add(1); }).ok());
    }
  }  // the destructor runs what was accepted
  EXPECT_EQ(ran.load(), 1000);
}

TEST(CpuPool, FullQueueRefusesAtOnce) {
  absl::Notification release, started;
  CpuPool pool({.threads = 1, .max_queued = 2});
  ASSERT_TRUE(pool.TrySchedule([&] {
                    started.Notify();
                    release.WaitForNotification();
                  })
                  .ok());
  started.WaitForNotification();  // the only thread is busy now
  EXPECT_TRUE(pool.TrySchedule([] {}).ok());
  EXPECT_TRUE(pool.TrySchedule([] {}).ok());
  absl::Status refused = pool.TrySchedule([] {});
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("overloaded"), std::string::npos);
  release.Notify();
}

TEST(CpuPool, DrainWaitsForAcceptedTasksThenRefuses) {
  std::atomic<int> ran{0};
  CpuPool pool({.threads = 2, .max_queued = 100});
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.TrySchedule([&] { ran.fetch_add(1); }).ok());
  EXPECT_TRUE(pool.Drain(absl::InfiniteFuture()));
  EXPECT_EQ(ran.load(), 50);
  EXPECT_EQ(pool.TrySchedule([] {}).code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace securebert::service
