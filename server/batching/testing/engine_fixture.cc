#include "batching/testing/engine_fixture.h"

#include <utility>

namespace securebert::batching::testing {

EngineOptions EngineFixture::Options() {
  EngineOptions options;
  options.warmup_seq_lens_tokens = {};
  return options;
}

std::vector<std::unique_ptr<Model>> EngineFixture::Models(const Instances& instances) {
  std::vector<std::unique_ptr<Model>> models;
  for (int32_t i = 0; i < instances.count; ++i) {
    FakeModelOptions fake;
    fake.instance = i;
    fake.hidden_size = kHidden;
    fake.vocab_size = kVocab;
    fake.poison_id = instances.poison_id;
    fake.oom_above_padded_tokens = instances.oom_above_padded_tokens;
    fake.task_head = instances.task_head;
    fake.num_labels = instances.task_head == TaskHead::kNone ? 0 : kLabels;
    fake.log = &log_;
    fake.gate = &gate_;
    models.push_back(std::make_unique<FakeModel>(fake));
  }
  return models;
}

Engine& EngineFixture::Start(const EngineOptions& options, const Instances& instances,
                             Clock* clock) {
  auto engine = Engine::Create(options, Models(instances), &observer_, clock);
  EXPECT_TRUE(engine.ok()) << engine.status();
  engine_ = std::move(*engine);
  return *engine_;
}

Engine& EngineFixture::Start(const EngineOptions& options) {
  return Start(options, Instances{}, &clock_);
}

absl::Status EngineFixture::SubmitCls(int32_t length, int32_t tag, Reply* reply) {
  return engine_->Submit(EmbedRequest({Sequence(length, tag)}, Pooling::kCls), reply->Callback());
}

void EngineFixture::HoldWorker(Reply* reply) {
  gate_.Close();
  const int64_t entered = gate_.entered();
  ASSERT_TRUE(SubmitCls(4, kBlockerTag, reply).ok());
  gate_.AwaitEntered(entered + 1);
}

std::vector<SeenBatch> EngineFixture::Batches() {
  std::vector<SeenBatch> batches;
  for (SeenBatch& batch : log_.batches()) {
    if (batch.tags != std::vector<int32_t>{kBlockerTag}) {
      batches.push_back(std::move(batch));
    }
  }
  return batches;
}

std::vector<Reply*> EngineFixture::NewReplies(size_t count) {
  std::vector<Reply*> replies;
  for (size_t i = 0; i < count; ++i) replies.push_back(&NewReply());
  return replies;
}

void EngineFixture::TearDown() {
  gate_.Open();
  engine_.reset();
}

}  // namespace securebert::batching::testing
