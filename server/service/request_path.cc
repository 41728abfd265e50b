#include "service/request_path.h"

#include <utility>

namespace securebert::service {

absl::StatusOr<std::unique_ptr<RequestPath>> RequestPath::Create(
    const RequestPathOptions& options, const tokenizer::Tokenizer* tokenizer,
    std::vector<std::unique_ptr<batching::Model>> instances, ServerMetrics* metrics) {
  absl::StatusOr<std::unique_ptr<batching::Engine>> engine =
      batching::Engine::Create(options.engine, std::move(instances), metrics);
  if (!engine.ok()) return engine.status();
  return std::unique_ptr<RequestPath>(
      new RequestPath(options, *std::move(engine), tokenizer, metrics));
}

RequestPath::RequestPath(const RequestPathOptions& options,
                         std::unique_ptr<batching::Engine> engine,
                         const tokenizer::Tokenizer* tokenizer, ServerMetrics* metrics)
    : pool_(options.pool),
      engine_(std::move(engine)),
      pipeline_(std::make_unique<ModelPipeline>(tokenizer, &pool_, engine_.get(), metrics,
                                                options.limits,
                                                engine_->options().max_input_tokens)) {}

RequestPath::~RequestPath() { Stop(); }

bool RequestPath::Drain(absl::Time deadline) {
  pool_.StopAccepting();
  // Accepted tokenization reaches the engine first: draining the engine
  // earlier would refuse it.
  bool on_time = pool_.AwaitIdle(deadline);
  if (on_time && engine_ != nullptr) {
    engine_->StartDrain();
    on_time = engine_->AwaitIdle(deadline - absl::Now()) && pool_.AwaitIdle(deadline);
  }
  if (!on_time) Stop();
  return on_time;
}

void RequestPath::Stop() {
  pool_.Stop();
  // The engine answers what it still holds; its callbacks reach the stopped
  // pool, which refuses them inline (UNAVAILABLE).
  engine_.reset();
}

}  // namespace securebert::service
