// Stamps the engine hands out on the way, for metrics.
//
// service/ implements EngineObserver (Prometheus counters and histograms);
// the engine never aggregates them itself.
//
// Thread safety: the engine calls an observer from its worker threads and
// from threads inside Engine::Submit, concurrently and never while holding an
// engine lock; implementations must be thread-safe and should return quickly.
// The observer is not owned by the engine and must outlive it.
#ifndef SECUREBERT_SERVER_BATCHING_OBSERVER_H_
#define SECUREBERT_SERVER_BATCHING_OBSERVER_H_

#include <cstdint>

#include "absl/status/status.h"

namespace securebert::batching {

// One model forward, as the worker that ran it saw it.
struct BatchStats {
  int32_t instance = 0;       // index of the model instance (worker) that ran it
  int32_t batch_size = 0;     // rows
  int32_t seq_len = 0;        // padded length (its longest row)
  int64_t real_tokens = 0;    // tokens of its rows, padding excluded
  int64_t padded_tokens = 0;  // batch_size x seq_len: what the model computed
  int32_t lm_rows = 0;        // <mask> positions sent through the LM head
  int64_t max_queue_us = 0;   // longest wait among its rows, admission to start
  int64_t compute_us = 0;     // the forward, input building to outputs back
  int32_t core_slots = 1;     // instances' cores it ran on (ModelInput::core_slots)
  absl::StatusCode code = absl::StatusCode::kOk;  // kInternal if it failed
};

class EngineObserver {
 public:
  virtual ~EngineObserver() = default;

  // After every model forward, successful or not.
  virtual void OnBatch(const BatchStats& /*stats*/) {}

  // After every admission, batch cut and answer: `requests` admitted and not
  // yet answered, `sequences` waiting in the queue.
  virtual void OnQueueDepth(int64_t /*requests*/, int64_t /*sequences*/) {}

  // Submit refused a request: kResourceExhausted (overloaded), kUnavailable
  // (draining or stopped), kInvalidArgument, or kCancelled/kDeadlineExceeded
  // when it arrived already cancelled or expired.
  virtual void OnRejected(absl::StatusCode /*code*/) {}

  // An admitted request was answered with an error: kDeadlineExceeded and
  // kCancelled (dropped before compute), kInternal (model failure),
  // kUnavailable (engine destroyed before it ran).
  virtual void OnDropped(absl::StatusCode /*code*/) {}
};

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_OBSERVER_H_
