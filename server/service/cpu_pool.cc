#include "service/cpu_pool.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace securebert::service {

CpuPool::CpuPool(const CpuPoolOptions& options) : options_(options) {
  const int32_t n = std::max<int32_t>(1, options_.threads);
  threads_.reserve(n);
  for (int32_t i = 0; i < n; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

CpuPool::~CpuPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

absl::Status CpuPool::TrySchedule(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || draining_) return absl::UnavailableError("server is draining");
  if (static_cast<int64_t>(queue_.size()) >= options_.max_queued) {
    return absl::ResourceExhaustedError(
        absl::StrCat("server overloaded: ", queue_.size(),
                     " requests are waiting to be tokenized; retry later"));
  }
  queue_.push_back(std::move(task));
  return absl::OkStatus();
}

bool CpuPool::Drain(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  draining_ = true;
  auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return queue_.empty() && running_ == 0; };
  return mu_.AwaitWithDeadline(absl::Condition(&idle), deadline);
}

void CpuPool::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]()
                       ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stopping_ || !queue_.empty(); };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping and nothing left to run
      task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    task();
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

}  // namespace securebert::service
