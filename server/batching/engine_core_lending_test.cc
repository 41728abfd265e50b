// Core lending (EngineOptions::lend_idle_cores) with fake models: a lone
// batch runs on every idle instance's cores, a busy engine runs one slot per
// forward, and the slots in use never exceed the instances. Forwards are
// held by a ForwardGate; no sleeps decide an outcome.
#include <vector>

#include "absl/synchronization/notification.h"
#include "batching/engine.h"
#include "batching/testing/engine_fixture.h"
#include "gtest/gtest.h"

namespace securebert::batching {
namespace {

using testing::Reply;
using testing::SeenBatch;

class EngineCoreLendingTest : public testing::EngineFixture {};

TEST_F(EngineCoreLendingTest, LoneBatchBorrowsEveryIdleInstancesCores) {
  Engine& engine = Start(Options(), Instances{3}, &clock_);
  Reply& reply = NewReply();
  ASSERT_TRUE(SubmitCls(6, 7, &reply).ok());
  ASSERT_TRUE(reply.Await().ok());
  ASSERT_TRUE(engine.AwaitIdle(absl::InfiniteDuration()));
  const std::vector<SeenBatch> batches = Batches();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0].core_slots, 3);
  EXPECT_EQ(observer_.batches().back().core_slots, 3);
}

TEST_F(EngineCoreLendingTest, LendingOffRunsEveryForwardOnItsOwnSlot) {
  EngineOptions options = Options();
  options.lend_idle_cores = false;
  Engine& engine = Start(options, Instances{3}, &clock_);
  Reply& reply = NewReply();
  ASSERT_TRUE(SubmitCls(6, 7, &reply).ok());
  ASSERT_TRUE(reply.Await().ok());
  ASSERT_TRUE(engine.AwaitIdle(absl::InfiniteDuration()));
  ASSERT_EQ(Batches().size(), 1u);
  EXPECT_EQ(Batches()[0].core_slots, 1);
}

TEST_F(EngineCoreLendingTest, LenderWithWorkWaitsForItsSlot) {
  Engine& engine = Start(Options(), Instances{2}, &clock_);
  gate_.Close();
  Reply& first = NewReply();
  ASSERT_TRUE(SubmitCls(40, 1, &first).ok());
  gate_.AwaitEntered(1);  // holds both slots
  Reply& second = NewReply();
  ASSERT_TRUE(SubmitCls(40, 2, &second).ok());
  // The idle worker takes the second batch, then waits for a slot instead of
  // running it beside a forward that holds every core.
  EXPECT_EQ(gate_.entered(), 1);
  EXPECT_EQ(log_.max_slots_in_use(), 2);
  gate_.Open();
  ASSERT_TRUE(first.Await().ok());
  ASSERT_TRUE(second.Await().ok());
  ASSERT_TRUE(engine.AwaitIdle(absl::InfiniteDuration()));
  EXPECT_EQ(Batches().size(), 2u);
  EXPECT_LE(log_.max_slots_in_use(), 2);
}

TEST_F(EngineCoreLendingTest, ABlockedDeliveryHoldsNoCores) {
  Engine& engine = Start(Options(), Instances{2}, &clock_);
  absl::Notification delivering;
  absl::Notification release;
  // The first request runs alone, on both instances' cores; its DoneCallback
  // then blocks, as a slow response build would.
  ASSERT_TRUE(engine
                  .Submit(testing::EmbedRequest({testing::Sequence(6, 1)}, Pooling::kCls),
                          [&](absl::StatusOr<Response>) {
                            delivering.Notify();
                            release.WaitForNotification();
                          })
                  .ok());
  delivering.WaitForNotification();
  // The cores came back before delivery, so the other instance's batch
  // starts and finishes while the first delivery is still blocked.
  Reply& second = NewReply();
  ASSERT_TRUE(SubmitCls(6, 2, &second).ok());
  const auto answer = second.AwaitFor(absl::Seconds(30));
  release.Notify();
  ASSERT_TRUE(answer.has_value()) << "the second batch waited for the first one's delivery";
  EXPECT_TRUE(answer->ok()) << answer->status();
  ASSERT_TRUE(engine.AwaitIdle(absl::InfiniteDuration()));
  const std::vector<SeenBatch> batches = Batches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_NE(batches[0].instance, batches[1].instance);
}

}  // namespace
}  // namespace securebert::batching
