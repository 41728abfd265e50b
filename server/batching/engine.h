// The dynamic-batching inference engine: the one entry point the service
// layer uses to run tokenized requests through N instances of a model.
//
// A request is validated and admitted to the BatchQueue at once (or
// refused); each instance's BatchWorker thread cuts batches from that queue
// by token budget, row cap, queue delay and length grouping (BatchPlanner),
// runs them, and answers each request once all its sequences are done. See
// docs of EngineOptions for the knobs and BatchPlanner for the policy.
//
// Ownership: Create() takes the model instances; Submit() takes the request
// and its DoneCallback on success only. The observer and clock are not owned
// and must outlive the engine.
//
// Thread safety: Submit, Warmup, StartDrain and AwaitIdle may be called from
// any thread, concurrently. DoneCallbacks and observer methods run on worker
// threads (or on the thread destroying the engine), with no engine lock held:
// they may call Submit, but must not destroy the engine. The destructor must
// not race with any other call.
#ifndef SECUREBERT_SERVER_BATCHING_ENGINE_H_
#define SECUREBERT_SERVER_BATCHING_ENGINE_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "batching/batch_queue.h"
#include "batching/batch_worker.h"
#include "batching/clock.h"
#include "batching/core_ledger.h"
#include "batching/engine_options.h"
#include "batching/model.h"
#include "batching/observer.h"
#include "batching/request.h"

namespace securebert::batching {

class Engine {
 public:
  // Checks `options` against the instances' spec (e.g. max_batch_tokens >=
  // max_input_tokens, else INVALID_ARGUMENT: a budget no input fits must not
  // hang) and that all instances describe the same model; then starts one
  // worker thread per instance. Each worker calls BindToCurrentThread() on
  // its instance and runs the warm-up shapes before taking work.
  static absl::StatusOr<std::unique_ptr<Engine>> Create(
      const EngineOptions& options, std::vector<std::unique_ptr<Model>> instances,
      EngineObserver* observer, Clock* clock = Clock::Real());

  // Answers anything still queued with UNAVAILABLE after running batches
  // finish; stops and joins the workers. No accepted request is lost.
  ~Engine();

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Never blocks. On OK the engine owns `request` and calls `done` exactly
  // once, from a worker thread (or the destroying thread), with the response
  // or DEADLINE_EXCEEDED / CANCELLED (dropped before compute), INTERNAL (the
  // model failed), UNAVAILABLE (engine destroyed first). On error `done` is
  // destroyed without being called and the caller answers from the status:
  // INVALID_ARGUMENT (malformed: see ValidateRequest), RESOURCE_EXHAUSTED
  // ("server overloaded: ..."), UNAVAILABLE (draining or stopped), CANCELLED
  // or DEADLINE_EXCEEDED (already so on arrival).
  absl::Status Submit(Request request, DoneCallback done);

  // Blocks until every instance has run each warm-up shape (batch rows x
  // padded length from EngineOptions) once; returns the first failure. Call
  // before reporting ready; requests submitted meanwhile wait their turn.
  absl::Status Warmup();

  // Refuses new work (UNAVAILABLE) from now on; queued and running work
  // finishes.
  void StartDrain();

  // True once every admitted request has been answered (their DoneCallbacks
  // have returned); false if `timeout` passes first.
  bool AwaitIdle(absl::Duration timeout);

  // The model the engine serves (instance 0's spec; all agree).
  const ModelSpec& spec() const { return spec_; }

  // The options it runs with, automatic settings resolved
  // (ResolveEngineOptions).
  const EngineOptions& options() const { return options_; }

 private:
  Engine(const EngineOptions& options, const ModelSpec& spec, int32_t instances,
         EngineObserver* observer, Clock* clock);

  // `done` followed by the engine's own bookkeeping for an admitted request.
  DoneCallback WrapDone(DoneCallback done, int64_t num_tokens);

  // Constant after construction.
  const EngineOptions options_;
  const ModelSpec spec_;
  EngineObserver* const observer_;
  Clock* const clock_;

  // Thread-safe; declared before the workers that use them.
  BatchQueue queue_;
  CoreLedger cores_;
  std::vector<std::unique_ptr<BatchWorker>> workers_;  // set once in Create
};

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_ENGINE_H_
