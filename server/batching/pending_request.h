// An admitted request while the engine works on it: its inputs, the outputs
// gathered so far from the batches its sequences ran in, and its one-shot
// reply.
//
// The engine creates one per accepted Submit; every queue entry of the
// request shares it (std::shared_ptr). Workers deliver outputs batch by batch
// (a request's sequences may run in different batches, on different workers,
// at the same time) and the last delivery answers it. Fail() answers at once;
// whichever answer comes first wins, later ones are ignored.
//
// Thread safety: thread-safe. admitted() and num_tokens() are constant after
// construction, and so is request() until the answer: the last Deliver moves
// the sequences into the Response, when every entry of the request has been
// delivered and nothing reads them any more. The rest is guarded by mu_. The
// DoneCallback runs after mu_ is released, on the thread whose call answered.
#ifndef SECUREBERT_SERVER_BATCHING_PENDING_REQUEST_H_
#define SECUREBERT_SERVER_BATCHING_PENDING_REQUEST_H_

#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "batching/request.h"

namespace securebert::batching {

// How one batch went, for the timing of the requests that ran in it.
struct BatchRun {
  absl::Time started;      // when the worker cut the batch
  int64_t compute_us = 0;  // its model forward
  int32_t batch_size = 0;  // its rows
};

class PendingRequest {
 public:
  PendingRequest(Request request, absl::Time admitted, DoneCallback done);

  PendingRequest(const PendingRequest&) = delete;
  PendingRequest& operator=(const PendingRequest&) = delete;

  const Request& request() const { return request_; }
  absl::Time admitted() const { return admitted_; }
  int64_t num_tokens() const { return num_tokens_; }

  // True once the request has been answered (successfully or not).
  bool answered() const { return answered_.load(std::memory_order_acquire); }

  // OK while the request should still run at `now`; else the status to answer
  // it with: CANCELLED, DEADLINE_EXCEEDED, or FAILED_PRECONDITION if it was
  // already answered (e.g. a sibling sequence's batch failed).
  absl::Status Liveness(absl::Time now) const;

  // Stores the outputs of the sequences (by index) that ran in one batch and
  // accounts the batch in the request's timing; answers the request when its
  // last output arrives, handing its sequences back in the Response. Ignored
  // if the request was already answered.
  void Deliver(std::vector<std::pair<int32_t, SequenceOutput>> outputs, const BatchRun& run);

  // Answers the request with `status` (not OK) unless already answered.
  void Fail(absl::Status status);

 private:
  Request request_;  // read-only until the answer (see Thread safety)
  const absl::Time admitted_;
  const int64_t num_tokens_;

  // Mirrors whether done_ has been taken, for lock-free checks by the queue.
  std::atomic<bool> answered_{false};

  mutable absl::Mutex mu_;
  DoneCallback done_ ABSL_GUARDED_BY(mu_);
  std::vector<SequenceOutput> outputs_ ABSL_GUARDED_BY(mu_);
  std::vector<bool> delivered_ ABSL_GUARDED_BY(mu_);
  int32_t remaining_ ABSL_GUARDED_BY(mu_);
  Timing timing_ ABSL_GUARDED_BY(mu_);
};

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_PENDING_REQUEST_H_
