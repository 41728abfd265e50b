// One model instance and the thread that drives it: warm-up, then batches
// from the queue until it stops.
//
// Engine creates one BatchWorker per Model instance. The worker's thread
// binds the model to itself (Model::BindToCurrentThread), runs the warm-up
// shapes, then loops: take a batch from the BatchQueue, take its core slot
// from the CoreLedger (and, when nothing else waits, the idle instances'
// slots too), build the padded input, run Forward, give the slots back, and
// only then deliver each row's output to its PendingRequest (or fail every
// request in the batch with INTERNAL if the model failed; the worker keeps
// serving). A forward that runs out of memory (RESOURCE_EXHAUSTED from the
// model: CUDA OOM) is split in halves and retried before anything fails;
// a single row that still does not fit fails RESOURCE_EXHAUSTED. The cores are held for the forward
// alone: delivery runs the requests' DoneCallbacks, and another instance's forward must not wait
// for them.
//
// Thread safety: the constructor starts the thread and the destructor joins
// it; the queue must have been stopped (BatchQueue::Stop) before the
// destructor runs, and a batch in progress finishes first. AwaitWarmup() may
// be called from any thread. The model is used only on the worker's thread.
#ifndef SECUREBERT_SERVER_BATCHING_BATCH_WORKER_H_
#define SECUREBERT_SERVER_BATCHING_BATCH_WORKER_H_

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "batching/batch_input.h"
#include "batching/batch_queue.h"
#include "batching/clock.h"
#include "batching/core_ledger.h"
#include "batching/engine_options.h"
#include "batching/model.h"
#include "batching/observer.h"

namespace securebert::batching {

class BatchWorker {
 public:
  // What a worker works with; pointers are not owned and outlive the worker.
  struct Deps {
    BatchQueue* queue = nullptr;         // where batches come from
    Clock* clock = nullptr;              // times compute and batch starts
    EngineObserver* observer = nullptr;  // may be null
    CoreLedger* cores = nullptr;         // whose cores a forward may use
  };

  // Starts the worker's thread for `model`, the `instance`-th of the engine.
  BatchWorker(int32_t instance, std::unique_ptr<Model> model, std::vector<WarmupShape> warmup,
              const Deps& deps);
  ~BatchWorker();

  BatchWorker(const BatchWorker&) = delete;
  BatchWorker& operator=(const BatchWorker&) = delete;

  // Blocks until the worker has run its warm-up shapes; returns the first
  // failure, or OK.
  absl::Status AwaitWarmup() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A batch's forward and what came of it.
  struct Ran {
    BatchInput input;                    // what the model ran
    absl::StatusOr<ModelOutput> output;  // its output, checked
    BatchStats stats;                    // how it went
  };

  void Run();
  absl::Status RunWarmup();
  // Runs `batch` on `core_slots` instances' cores (see CoreLedger).
  Ran RunForward(const Batch& batch, int32_t core_slots);
  // RunForward, and on out-of-memory (RESOURCE_EXHAUSTED from the model,
  // e.g. CUDA OOM) each half of the batch again, down to single rows; every
  // part that ran lands in `runs`.
  void RunSplittingOnOom(Batch batch, int32_t core_slots, std::vector<std::pair<Batch, Ran>>* runs);
  // Reports the batch and answers its requests.
  void Finish(const Batch& batch, Ran ran);
  // Forward that turns a Model breaking its no-exception contract into a
  // status instead of ending the process.
  absl::StatusOr<ModelOutput> SafeForward(const ModelInput& input);
  void Deliver(const Batch& batch, const BatchInput& input, ModelOutput* output,
               const BatchRun& run);
  void FailAll(const Batch& batch, const absl::Status& status);
  void Report(const BatchStats& stats) const;

  // Constant after construction.
  const int32_t instance_;
  const std::unique_ptr<Model> model_;  // used only on thread_
  const ModelSpec spec_;
  const std::vector<WarmupShape> warmup_;
  const Deps deps_;

  absl::Mutex mu_;
  bool warmed_up_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status warmup_status_ ABSL_GUARDED_BY(mu_);

  // Last: starts once everything above is initialized.
  std::thread thread_;
};

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_BATCH_WORKER_H_
