// CpuPool: a bounded pool of CPU threads for request preparation
// (tokenization) and response building, so that neither runs on a gRPC
// callback thread nor on a batch worker.
//
// The queue is bounded: TrySchedule refuses at once with RESOURCE_EXHAUSTED
// when it is full, instead of queueing without limit.
//
// Thread safety: TrySchedule may be called from any thread. The pool owns its
// threads; the destructor runs every task already accepted, then joins.
#ifndef SECUREBERT_SERVER_SERVICE_CPU_POOL_H_
#define SECUREBERT_SERVER_SERVICE_CPU_POOL_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace securebert::service {

struct CpuPoolOptions {
  int32_t threads = 2;        // worker threads (>= 1)
  int32_t max_queued = 4096;  // tasks waiting for a thread; past it TrySchedule refuses
};

class CpuPool {
 public:
  explicit CpuPool(const CpuPoolOptions& options);
  ~CpuPool();
  CpuPool(const CpuPool&) = delete;
  CpuPool& operator=(const CpuPool&) = delete;

  // On OK the pool owns `task` and runs it exactly once on a pool thread.
  // ResourceExhausted when the queue is full (the task is dropped unrun).
  absl::Status TrySchedule(std::function<void()> task);

  // Refuses new tasks from now on (UNAVAILABLE) and waits until every
  // accepted task has run, or until `deadline`. True if all have run.
  bool Drain(absl::Time deadline);

 private:
  void WorkerLoop();

  const CpuPoolOptions options_;  // constant after construction

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  int32_t running_ ABSL_GUARDED_BY(mu_) = 0;    // tasks being run right now
  bool draining_ ABSL_GUARDED_BY(mu_) = false;  // refusing new tasks
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // threads exit once the queue is empty

  std::vector<std::thread> threads_;  // started in the constructor, joined in the destructor
};

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_CPU_POOL_H_
