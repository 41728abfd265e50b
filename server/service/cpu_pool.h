// CpuPool: a bounded pool of CPU threads for request preparation
// (tokenization) and response building, so that neither runs on a gRPC
// callback thread nor on a batch worker (which would hold its cores, or at
// least its instance, while it builds an answer).
//
// Every task carries the answer it owes if it never runs (PoolTask::refuse),
// so that work handed to the pool is answered exactly once whatever happens:
//   Submit    new work (tokenizing a request). Bounded: refused at once with
//             RESOURCE_EXHAUSTED when max_queued tasks wait, and with
//             UNAVAILABLE once the pool stops accepting.
//   Continue  the next step of work already accepted (building a computed
//             answer). Never refused for being full, and run before new
//             work; refused only once the pool has stopped.
// A refusal calls `refuse` on the caller's thread, before Submit/Continue
// returns.
//
// Shutdown: StopAccepting, then AwaitIdle for what was accepted; Stop answers
// every queued task UNAVAILABLE, waits for the running ones and joins the
// threads, so that nothing calls into the components behind the tasks once
// it returns (the server destroys the engine only after Stop).
//
// Thread safety: every method may be called from any thread, except that
// Stop (and the destructor) must not run on a pool thread. The pool owns its
// threads; the destructor calls Stop.
#ifndef SECUREBERT_SERVER_SERVICE_CPU_POOL_H_
#define SECUREBERT_SERVER_SERVICE_CPU_POOL_H_

#include <cstdint>
#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace securebert::service {

struct CpuPoolOptions {
  int32_t threads = 2;        // worker threads (>= 1)
  int32_t max_queued = 4096;  // new tasks waiting for a thread; past it Submit refuses
};

// One unit of pool work: exactly one of `run` and `refuse` is called, once.
struct PoolTask {
  absl::AnyInvocable<void()> run;                 // the work, on a pool thread
  absl::AnyInvocable<void(absl::Status)> refuse;  // instead of run, with why
};

class CpuPool {
 public:
  explicit CpuPool(const CpuPoolOptions& options);
  ~CpuPool();
  CpuPool(const CpuPool&) = delete;
  CpuPool& operator=(const CpuPool&) = delete;

  // New work; see the header comment.
  void Submit(PoolTask task) ABSL_LOCKS_EXCLUDED(mu_);
  // The continuation of accepted work; see the header comment.
  void Continue(PoolTask task) ABSL_LOCKS_EXCLUDED(mu_);

  // Submit refuses (UNAVAILABLE) from now on; Continue still runs.
  void StopAccepting() ABSL_LOCKS_EXCLUDED(mu_);
  // True once nothing is queued or running; false if `deadline` comes first.
  bool AwaitIdle(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);
  // Refuses every queued task with UNAVAILABLE, waits for running tasks to
  // return and joins the threads; later Submit/Continue calls are refused
  // inline. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  enum class State { kAccepting, kContinuing, kStopped };
  using Queue = std::deque<PoolTask>;

  void WorkerLoop() ABSL_LOCKS_EXCLUDED(mu_);
  bool HasTaskOrStopped() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool Idle() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const CpuPoolOptions options_;  // constant after construction

  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kAccepting;
  Queue continuations_ ABSL_GUARDED_BY(mu_);  // run first
  Queue fresh_ ABSL_GUARDED_BY(mu_);          // new work, bounded by max_queued
  int32_t running_ ABSL_GUARDED_BY(mu_) = 0;  // tasks being run right now

  // Started in the constructor; joined by Stop, on the thread that calls it.
  std::vector<std::thread> threads_;
  absl::Mutex stop_mu_;  // serializes Stop's join
  bool joined_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_CPU_POOL_H_
