#include "batching/engine.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "batching/request_validation.h"

namespace securebert::batching {
namespace {

// INVALID_ARGUMENT unless every instance is present and describes the same
// model as the first.
absl::Status CheckInstances(const std::vector<std::unique_ptr<Model>>& instances) {
  if (instances.empty()) {
    return absl::InvalidArgumentError("the engine needs at least 1 instance");
  }
  for (size_t i = 0; i < instances.size(); ++i) {
    if (instances[i] == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("model instance ", i, " is null"));
    }
    const ModelSpec& a = instances[0]->spec();
    const ModelSpec& b = instances[i]->spec();
    if (a.hidden_size != b.hidden_size || a.vocab_size != b.vocab_size ||
        a.max_input_tokens != b.max_input_tokens || a.pad_id != b.pad_id) {
      return absl::InvalidArgumentError(absl::StrCat("model instance ", i, " (", b.model_id,
                                                     ") does not match instance 0 (", a.model_id,
                                                     ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(
    const EngineOptions& options, std::vector<std::unique_ptr<Model>> instances,
    EngineObserver* observer, Clock* clock) {
  if (absl::Status status = CheckInstances(instances); !status.ok()) {
    return status;
  }
  const ModelSpec spec = instances[0]->spec();
  const EngineOptions resolved = ResolveEngineOptions(options, spec);
  if (absl::Status status = ValidateEngineOptions(resolved, spec); !status.ok()) {
    return status;
  }
  std::unique_ptr<Engine> engine(
      new Engine(resolved, spec, static_cast<int32_t>(instances.size()), observer, clock));
  const std::vector<WarmupShape> warmup = WarmupShapes(resolved);
  const BatchWorker::Deps deps{&engine->queue_, clock, observer, &engine->cores_};
  for (size_t i = 0; i < instances.size(); ++i) {
    engine->workers_.push_back(std::make_unique<BatchWorker>(
        static_cast<int32_t>(i), std::move(instances[i]), warmup, deps));
  }
  return engine;
}

Engine::Engine(const EngineOptions& options, const ModelSpec& spec, int32_t instances,
               EngineObserver* observer, Clock* clock)
    : options_(options),
      spec_(spec),
      observer_(observer),
      clock_(clock),
      queue_(options, clock, observer),
      cores_(instances, options.lend_idle_cores) {}

Engine::~Engine() {
  queue_.Stop();
  workers_.clear();  // joins; batches already running are answered
  for (const auto& request : queue_.TakeAll()) {
    request->Fail(absl::UnavailableError("inference engine shut down before the request ran"));
  }
}

absl::Status Engine::Submit(Request request, DoneCallback done) {
  absl::Status status = ValidateRequest(request, spec_, options_.max_input_tokens);
  if (status.ok()) status = RequestLiveness(request, clock_->Now());
  if (status.ok()) {
    const int64_t num_tokens = CountTokens(request);
    status = queue_.Admit(std::move(request), WrapDone(std::move(done), num_tokens));
  }
  if (!status.ok() && observer_ != nullptr) {
    observer_->OnRejected(status.code());
  }
  return status;
}

DoneCallback Engine::WrapDone(DoneCallback done, int64_t num_tokens) {
  return [this, num_tokens, done = std::move(done)](absl::StatusOr<Response> result) mutable {
    const absl::StatusCode code = result.status().code();
    if (code != absl::StatusCode::kOk && observer_ != nullptr) {
      observer_->OnDropped(code);
    }
    // The slot is free before the answer goes out: a closed-loop client
    // whose next call follows its answer must find it free.
    queue_.Release(num_tokens);
    done(std::move(result));
    queue_.Answered();
  };
}

absl::Status Engine::Warmup() {
  for (const auto& worker : workers_) {
    if (absl::Status status = worker->AwaitWarmup(); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

void Engine::StartDrain() { queue_.StartDrain(); }

bool Engine::AwaitIdle(absl::Duration timeout) { return queue_.AwaitIdle(timeout); }

}  // namespace securebert::batching
