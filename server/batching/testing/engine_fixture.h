// The gtest fixture of the engine tests: an Engine over FakeModels that
// share one BatchLog and one ForwardGate, a FakeClock, a CountingObserver,
// and reply slots that outlive the engine.
//
// Thread safety: used from the test's main thread; the shared doubles it
// owns are thread-safe.
#ifndef SECUREBERT_SERVER_BATCHING_TESTING_ENGINE_FIXTURE_H_
#define SECUREBERT_SERVER_BATCHING_TESTING_ENGINE_FIXTURE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "batching/engine.h"
#include "batching/testing/engine_test_util.h"
#include "batching/testing/fake_clock.h"
#include "batching/testing/fake_model.h"
#include "gtest/gtest.h"

namespace securebert::batching::testing {

class EngineFixture : public ::testing::Test {
 protected:
  static constexpr int32_t kHidden = 4;        // fake hidden size
  static constexpr int32_t kVocab = 1000;      // fake vocabulary
  static constexpr int32_t kBlockerTag = 999;  // tag of HoldWorker's row

  // Engine options with warm-up off (tests that want it set it).
  static EngineOptions Options();

  struct Instances {
    int32_t count = 1;                     // model instances
    int32_t poison_id = -1;                // FakeModelOptions::poison_id
    int64_t oom_above_padded_tokens = -1;  // FakeModelOptions::oom_above_padded_tokens
    TaskHead task_head = TaskHead::kNone;  // FakeModelOptions::task_head (kLabels labels)
  };
  static constexpr int32_t kLabels = 5;  // labels of a fake task head

  std::vector<std::unique_ptr<Model>> Models(const Instances& instances);

  // Creates the engine (held by the fixture) and returns it.
  Engine& Start(const EngineOptions& options, const Instances& instances, Clock* clock);
  Engine& Start(const EngineOptions& options);  // 1 instance, fake clock

  // Closes the gate, submits a one-row request and waits until its forward
  // is held there: the (single) worker is busy and what is submitted next
  // waits in the queue.
  void HoldWorker(Reply* reply);

  // Submits a one-input CLS Embed request: Sequence(length, tag).
  absl::Status SubmitCls(int32_t length, int32_t tag, Reply* reply);

  // Batches the models ran, without HoldWorker's.
  std::vector<SeenBatch> Batches();

  // Reply slots live in the fixture and are destroyed after the engine, so
  // an early ASSERT return cannot leave the engine calling a dead Reply.
  Reply& NewReply() { return replies_.emplace_back(); }
  std::vector<Reply*> NewReplies(size_t count);

  // Opens the gate so that the engine's destructor can join its workers.
  void TearDown() override;

  FakeClock clock_;
  BatchLog log_;
  ForwardGate gate_;
  CountingObserver observer_;
  std::deque<Reply> replies_;
  std::unique_ptr<Engine> engine_;  // last: destroyed first
};

}  // namespace securebert::batching::testing

#endif  // SECUREBERT_SERVER_BATCHING_TESTING_ENGINE_FIXTURE_H_
