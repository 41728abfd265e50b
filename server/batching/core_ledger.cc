#include "batching/core_ledger.h"

#include <algorithm>

namespace securebert::batching {

CoreLedger::CoreLedger(int32_t slots, bool lend) : lend_(lend), free_(std::max(1, slots)) {}

int32_t CoreLedger::Acquire(bool borrow) {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(this, &CoreLedger::AnyFree));
  const int32_t taken = borrow && lend_ ? free_ : 1;
  free_ -= taken;
  return taken;
}

void CoreLedger::Release(int32_t slots) {
  absl::MutexLock lock(&mu_);
  free_ += slots;
}

int32_t CoreLedger::free_slots() const {
  absl::MutexLock lock(&mu_);
  return free_;
}

}  // namespace securebert::batching
