// CoreLedger on its own: who gets how many slots, and that a taker with no
// free slot waits for one.
#include "batching/core_ledger.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace securebert::batching {
namespace {

TEST(CoreLedgerTest, BorrowTakesEveryFreeSlotAndOwnTakesOne) {
  CoreLedger ledger(4, /*lend=*/true);
  EXPECT_EQ(ledger.Acquire(/*borrow=*/false), 1);
  EXPECT_EQ(ledger.free_slots(), 3);
  EXPECT_EQ(ledger.Acquire(/*borrow=*/true), 3);
  EXPECT_EQ(ledger.free_slots(), 0);
  ledger.Release(3);
  ledger.Release(1);
  EXPECT_EQ(ledger.free_slots(), 4);
}

TEST(CoreLedgerTest, WithoutLendingBorrowTakesOne) {
  CoreLedger ledger(4, /*lend=*/false);
  EXPECT_EQ(ledger.Acquire(/*borrow=*/true), 1);
  EXPECT_EQ(ledger.free_slots(), 3);
  ledger.Release(1);
}

TEST(CoreLedgerTest, TakerWaitsUntilASlotComesBack) {
  CoreLedger ledger(2, /*lend=*/true);
  ASSERT_EQ(ledger.Acquire(/*borrow=*/true), 2);
  std::atomic<int32_t> got{0};
  absl::Notification done;
  std::thread waiter([&] {
    got = ledger.Acquire(/*borrow=*/true);
    done.Notify();
  });
  // No slot is free: the waiter cannot have returned whatever the timing.
  EXPECT_FALSE(done.HasBeenNotified());
  ledger.Release(2);
  done.WaitForNotification();
  waiter.join();
  EXPECT_EQ(got.load(), 2);
  ledger.Release(2);
  EXPECT_EQ(ledger.free_slots(), 2);
}

}  // namespace
}  // namespace securebert::batching
