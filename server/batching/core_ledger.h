// Which instances' cores are free to lend (EngineOptions::lend_idle_cores).
//
// Each engine instance owns one "core slot": the cores its forward runs on
// (its intra-op threads). A worker holds its own slot only while it runs a
// forward; between forwards the slot is free, and a worker that cuts a batch
// while nothing else waits may take every free slot for that one forward, so
// a lone request computes on all cores instead of one. A worker whose slot
// was taken meanwhile waits in Acquire until a slot comes back.
//
// The ledger never hands out more slots than instances, so forwards never
// oversubscribe the cores; every Acquire must be paired with Release of the
// count it returned.
//
// Thread safety: thread-safe; all state is guarded by mu_.
#ifndef SECUREBERT_SERVER_BATCHING_CORE_LEDGER_H_
#define SECUREBERT_SERVER_BATCHING_CORE_LEDGER_H_

#include <cstdint>

#include "absl/synchronization/mutex.h"

namespace securebert::batching {

class CoreLedger {
 public:
  // `slots`: one per instance (>= 1). `lend`: whether Acquire may take more
  // than one slot.
  CoreLedger(int32_t slots, bool lend);

  CoreLedger(const CoreLedger&) = delete;
  CoreLedger& operator=(const CoreLedger&) = delete;

  // Blocks until a slot is free and takes it; with `borrow` (and lending
  // on) also takes every other free slot. Returns the slots taken (>= 1).
  int32_t Acquire(bool borrow) ABSL_LOCKS_EXCLUDED(mu_);

  // Returns `slots` taken by Acquire.
  void Release(int32_t slots) ABSL_LOCKS_EXCLUDED(mu_);

  // Slots not held by a running forward.
  int32_t free_slots() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  bool AnyFree() const ABSL_SHARED_LOCKS_REQUIRED(mu_) { return free_ > 0; }

  const bool lend_;
  mutable absl::Mutex mu_;
  int32_t free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_CORE_LEDGER_H_
