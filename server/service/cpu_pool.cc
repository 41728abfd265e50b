#include "service/cpu_pool.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"

namespace securebert::service {

CpuPool::CpuPool(const CpuPoolOptions& options) : options_(options) {
  const int32_t n = std::max<int32_t>(1, options_.threads);
  threads_.reserve(n);
  for (int32_t i = 0; i < n; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

CpuPool::~CpuPool() { Stop(); }

void CpuPool::Submit(PoolTask task) {
  absl::Status refusal;
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kAccepting) {
      refusal = absl::UnavailableError("server is draining; retry on another replica");
    } else if (static_cast<int64_t>(fresh_.size()) >= options_.max_queued) {
      refusal = absl::ResourceExhaustedError(
          absl::StrCat("server overloaded: ", fresh_.size(),
                       " requests are waiting to be tokenized; retry later"));
    } else {
      fresh_.push_back(std::move(task));
      return;
    }
  }
  task.refuse(std::move(refusal));
}

void CpuPool::Continue(PoolTask task) {
  {
    absl::MutexLock lock(&mu_);
    if (state_ != State::kStopped) {
      continuations_.push_back(std::move(task));
      return;
    }
  }
  task.refuse(absl::UnavailableError("server is shutting down; the answer was not sent"));
}

void CpuPool::StopAccepting() {
  absl::MutexLock lock(&mu_);
  if (state_ == State::kAccepting) state_ = State::kContinuing;
}

bool CpuPool::AwaitIdle(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithDeadline(absl::Condition(this, &CpuPool::Idle), deadline);
}

void CpuPool::Stop() {
  Queue refused;
  {
    absl::MutexLock lock(&mu_);
    state_ = State::kStopped;
    refused.swap(continuations_);
    std::move(fresh_.begin(), fresh_.end(), std::back_inserter(refused));
    fresh_.clear();
  }
  // Answered before the join, outside the lock: a refusal may take a while
  // (it finishes an RPC) and must not wait behind a long running task.
  for (PoolTask& task : refused) {
    task.refuse(absl::UnavailableError("server is shutting down before the request ran"));
  }
  absl::MutexLock lock(&stop_mu_);
  if (joined_) return;
  for (std::thread& t : threads_) t.join();
  joined_ = true;
}

bool CpuPool::HasTaskOrStopped() const {
  return state_ == State::kStopped || !continuations_.empty() || !fresh_.empty();
}

bool CpuPool::Idle() const { return continuations_.empty() && fresh_.empty() && running_ == 0; }

void CpuPool::WorkerLoop() {
  for (;;) {
    PoolTask task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &CpuPool::HasTaskOrStopped));
      if (state_ == State::kStopped) return;  // Stop answers what is still queued
      Queue& from = continuations_.empty() ? fresh_ : continuations_;
      task = std::move(from.front());
      from.pop_front();
      ++running_;
    }
    task.run();
    absl::MutexLock lock(&mu_);
    --running_;
  }
}

}  // namespace securebert::service
