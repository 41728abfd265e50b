// RequestPath: the server's request path, assembled and taken down in the
// one safe order: the CpuPool (tokenizing, then building answers), the
// batching Engine over the model instances, and the ModelPipeline that
// joins them.
//
// Shutdown is the hazard it exists for. Pool tasks call into the engine
// (tokenized requests are submitted from pool threads), and the engine's
// answers are handed back to the pool. So the pool's threads must be joined
// before the engine is destroyed, and the pool object must outlive the
// engine (whose destructor still answers what it holds, through the pool,
// which refuses inline once stopped). Drain and Stop keep that order; the
// destructor calls Stop.
//
// Ownership: owns the pool, the engine and the pipeline; references the
// tokenizer and metrics, which outlive it. Thread safety: Create, Drain and
// Stop from one thread (the server's); pipeline() and engine() may be used
// from any thread until Stop.
#ifndef SECUREBERT_SERVER_SERVICE_REQUEST_PATH_H_
#define SECUREBERT_SERVER_SERVICE_REQUEST_PATH_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "batching/engine.h"
#include "batching/model.h"
#include "service/cpu_pool.h"
#include "service/metrics.h"
#include "service/model_pipeline.h"
#include "service/request_limits.h"
#include "tokenizer/tokenizer.h"

namespace securebert::service {

struct RequestPathOptions {
  CpuPoolOptions pool;             // tokenizer / response pool
  batching::EngineOptions engine;  // batching; automatic settings resolved by Create
  RequestLimits limits;            // checked by the pipeline after tokenizing
};

class RequestPath {
 public:
  // Starts the engine over `instances` (its workers warm up in the
  // background; Warmup() waits) and the pool. INVALID_ARGUMENT for engine
  // options the model cannot serve (batching::ValidateEngineOptions).
  static absl::StatusOr<std::unique_ptr<RequestPath>> Create(
      const RequestPathOptions& options, const tokenizer::Tokenizer* tokenizer,
      std::vector<std::unique_ptr<batching::Model>> instances, ServerMetrics* metrics);
  ~RequestPath();
  RequestPath(const RequestPath&) = delete;
  RequestPath& operator=(const RequestPath&) = delete;

  absl::Status Warmup() { return engine_->Warmup(); }

  // Finishes what was accepted by `deadline`: new work is refused
  // (UNAVAILABLE), queued tokenization reaches the engine, the engine
  // drains, the answers are built. True if everything finished in time;
  // otherwise Stop() answers the rest UNAVAILABLE and it returns false.
  bool Drain(absl::Time deadline);
  // The first step of Drain on its own: from its return, new work is
  // refused UNAVAILABLE. Idempotent.
  void StopAccepting() { pool_.StopAccepting(); }

  // Answers every queued task UNAVAILABLE and joins the pool, then destroys
  // the engine, which answers what it still holds. Idempotent.
  void Stop();

  ModelPipeline* pipeline() { return pipeline_.get(); }
  CpuPool* pool() { return &pool_; }
  // The engine (options resolved); null after Stop.
  const batching::Engine* engine() const { return engine_.get(); }

 private:
  RequestPath(const RequestPathOptions& options, std::unique_ptr<batching::Engine> engine,
              const tokenizer::Tokenizer* tokenizer, ServerMetrics* metrics);

  // Declared in the order that makes destruction safe after Stop: the
  // pipeline goes first, then the engine, then the pool it answers through.
  CpuPool pool_;
  std::unique_ptr<batching::Engine> engine_;
  std::unique_ptr<ModelPipeline> pipeline_;
};

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_REQUEST_PATH_H_
