// The engine's one queue: bounded admission of requests, their sequences
// waiting by length, and the hand-off of cut batches to workers.
//
// Engine::Submit calls Admit(); each BatchWorker loops on NextBatch(), which
// asks the BatchPlanner what to cut. A request is admitted whole or refused at
// once (RESOURCE_EXHAUSTED past max_concurrent_requests or max_queue_tokens,
// UNAVAILABLE while draining or stopped); an admitted request holds its slot
// until Release() is called for it as it is answered. Entries whose
// request was cancelled, has expired or was already answered are dropped in
// NextBatch() before planning, so they never take batch space; their
// requests are answered there, on the worker's thread.
//
// Thread safety: thread-safe; all state is guarded by mu_. No callback
// (DoneCallback, observer) runs while mu_ is held. Lock order: mu_ may be held
// while reading a PendingRequest's atomic flags, never its mutex.
#ifndef SECUREBERT_SERVER_BATCHING_BATCH_QUEUE_H_
#define SECUREBERT_SERVER_BATCHING_BATCH_QUEUE_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "batching/batch_planner.h"
#include "batching/clock.h"
#include "batching/engine_options.h"
#include "batching/observer.h"
#include "batching/queue_entry.h"
#include "batching/request.h"

namespace securebert::batching {

class BatchQueue {
 public:
  // `clock` and `observer` (nullable) are not owned and must outlive the
  // queue. `options` must have passed ValidateEngineOptions.
  BatchQueue(const EngineOptions& options, Clock* clock, EngineObserver* observer);

  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  // Admits `request` (already validated) with its reply `done`, stamping its
  // admission time. On OK the queue owns both and the request will be
  // answered exactly once; on error `done` is destroyed without being called.
  absl::Status Admit(Request request, DoneCallback done) ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until a batch is cut into `*batch` (returns true) or the queue is
  // stopped (returns false). May answer dropped requests before returning.
  bool NextBatch(Batch* batch) ABSL_LOCKS_EXCLUDED(mu_);

  // Frees the admission slot of a request of `num_tokens` tokens. Called
  // exactly once per admitted request, just before its DoneCallback runs (so
  // that the caller's next request finds the slot free).
  void Release(int64_t num_tokens) ABSL_LOCKS_EXCLUDED(mu_);

  // Called exactly once per admitted request, after its DoneCallback
  // returned: what AwaitIdle waits for.
  void Answered() ABSL_LOCKS_EXCLUDED(mu_);

  // Admit() refuses from now on (UNAVAILABLE); waiting work still runs and
  // workers no longer wait for fuller batches.
  void StartDrain() ABSL_LOCKS_EXCLUDED(mu_);

  // True once every admitted request has been answered (Answered()); false
  // if `timeout` (on the queue's clock) passes first.
  bool AwaitIdle(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  // Admit() refuses and NextBatch() returns false from now on; entries still
  // waiting stay for TakeAll().
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Empties the queue; returns the distinct requests that still had entries
  // waiting, for the caller to answer.
  std::vector<std::shared_ptr<PendingRequest>> TakeAll() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  enum class State { kServing, kDraining, kStopped };
  enum class Step { kCut, kRetry, kStopped };
  using Dropped = std::vector<std::pair<std::shared_ptr<PendingRequest>, absl::Status>>;

  // One pass of NextBatch() with mu_ held: waits for work, drops dead
  // entries into `*dropped`, then cuts, or waits for a fuller batch.
  Step StepLocked(Batch* batch, Dropped* dropped) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SweepLocked(absl::Time now, Dropped* dropped) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TakeLocked(const BatchPlan& plan, absl::Time now, Batch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RefusalLocked(int64_t num_tokens) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool HasWorkOrStopped() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool Idle() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Reports the depth captured under mu_; called without it.
  void ReportDepth(int64_t requests, int64_t sequences) const;

  // Constant after construction.
  const BatchPlanner planner_;
  const int32_t max_concurrent_requests_;
  const int64_t max_queue_tokens_;
  Clock* const clock_;
  EngineObserver* const observer_;

  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kServing;
  LengthBuckets waiting_ ABSL_GUARDED_BY(mu_);
  int64_t waiting_sequences_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t outstanding_requests_ ABSL_GUARDED_BY(mu_) = 0;  // admitted, unreleased
  int64_t outstanding_tokens_ ABSL_GUARDED_BY(mu_) = 0;    // their tokens
  int64_t unanswered_ ABSL_GUARDED_BY(mu_) = 0;     // admitted, DoneCallback not yet returned
  uint64_t next_arrival_ ABSL_GUARDED_BY(mu_) = 0;  // next entry's arrival
  uint64_t admissions_ ABSL_GUARDED_BY(mu_) = 0;    // Admit() successes
  int64_t cut_tokens_ ABSL_GUARDED_BY(mu_) = 0;     // padded tokens of batches cut
};

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_BATCH_QUEUE_H_
