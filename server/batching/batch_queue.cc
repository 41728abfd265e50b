#include "batching/batch_queue.h"

#include <algorithm>
#include <iterator>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "batching/request_validation.h"

namespace securebert::batching {

BatchQueue::BatchQueue(const EngineOptions& options, Clock* clock, EngineObserver* observer)
    : planner_(options),
      max_concurrent_requests_(options.max_concurrent_requests),
      max_queue_tokens_(options.max_queue_tokens),
      clock_(clock),
      observer_(observer) {}

absl::Status BatchQueue::RefusalLocked(int64_t num_tokens) const {
  if (state_ == State::kDraining) {
    return absl::UnavailableError("server is draining; not accepting work");
  }
  if (state_ == State::kStopped) {
    return absl::UnavailableError("inference engine is stopped");
  }
  if (outstanding_requests_ >= max_concurrent_requests_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("server overloaded: ", outstanding_requests_,
                     " requests in flight (max_concurrent_requests=", max_concurrent_requests_,
                     "); retry later"));
  }
  // A request alone is admitted whatever its size, so none waits forever.
  if (outstanding_tokens_ > 0 && outstanding_tokens_ + num_tokens > max_queue_tokens_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("server overloaded: ", outstanding_tokens_,
                     " tokens in flight (max_queue_tokens=", max_queue_tokens_, "); retry later"));
  }
  return absl::OkStatus();
}

absl::Status BatchQueue::Admit(Request request, DoneCallback done) {
  const int64_t num_tokens = CountTokens(request);
  int64_t requests = 0;
  int64_t sequences = 0;
  {
    absl::MutexLock lock(&mu_);
    if (absl::Status refusal = RefusalLocked(num_tokens); !refusal.ok()) {
      return refusal;
    }
    const absl::Time now = clock_->Now();
    auto pending = std::make_shared<PendingRequest>(std::move(request), now, std::move(done));
    const auto& seqs = pending->request().sequences;
    for (size_t i = 0; i < seqs.size(); ++i) {
      const auto length = static_cast<int32_t>(seqs[i].size());
      waiting_[length].push_back(
          QueueEntry{pending, static_cast<int32_t>(i), length, next_arrival_++, now, cut_tokens_});
    }
    waiting_sequences_ += static_cast<int64_t>(seqs.size());
    ++outstanding_requests_;
    ++unanswered_;
    outstanding_tokens_ += num_tokens;
    ++admissions_;
    requests = outstanding_requests_;
    sequences = waiting_sequences_;
  }
  ReportDepth(requests, sequences);
  return absl::OkStatus();
}

bool BatchQueue::NextBatch(Batch* batch) {
  while (true) {
    Dropped dropped;
    Step step;
    int64_t requests = 0;
    int64_t sequences = 0;
    {
      absl::MutexLock lock(&mu_);
      step = StepLocked(batch, &dropped);
      requests = outstanding_requests_;
      sequences = waiting_sequences_;
    }
    // Answered with no lock held: a DoneCallback may call back into Submit.
    for (auto& [request, status] : dropped) request->Fail(std::move(status));
    if (step == Step::kStopped) return false;
    if (step == Step::kCut) {
      batch->left_waiting = sequences;
      ReportDepth(requests, sequences);
      return true;
    }
  }
}

BatchQueue::Step BatchQueue::StepLocked(Batch* batch, Dropped* dropped) {
  mu_.Await(absl::Condition(this, &BatchQueue::HasWorkOrStopped));
  if (state_ == State::kStopped) return Step::kStopped;
  const absl::Time now = clock_->Now();
  SweepLocked(now, dropped);
  // Answer what was dropped before (possibly) waiting again.
  if (!dropped->empty() || waiting_.empty()) return Step::kRetry;
  const BatchPlan plan = planner_.Plan(waiting_, QueueProgress{now, cut_tokens_});
  if (plan.cut_at > now && state_ == State::kServing) {
    // Wait for a fuller batch: until the oldest entry's delay is up, a new
    // arrival may change the plan, or the queue starts draining or stops.
    const uint64_t seen = admissions_;
    auto changed = [this, seen]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return admissions_ != seen || state_ != State::kServing;
    };
    clock_->AwaitWithDeadline(&mu_, absl::Condition(&changed), plan.cut_at);
    return Step::kRetry;
  }
  TakeLocked(plan, now, batch);
  return Step::kCut;
}

void BatchQueue::SweepLocked(absl::Time now, Dropped* dropped) {
  absl::flat_hash_set<const PendingRequest*> seen;
  for (auto bucket = waiting_.begin(); bucket != waiting_.end();) {
    auto& entries = bucket->second;
    const auto dead =
        std::stable_partition(entries.begin(), entries.end(), [&](const QueueEntry& entry) {
          absl::Status status = entry.request->Liveness(now);
          if (status.ok()) return true;
          // Already-answered requests need no second answer.
          if (!entry.request->answered() && seen.insert(entry.request.get()).second) {
            dropped->emplace_back(entry.request, std::move(status));
          }
          return false;
        });
    waiting_sequences_ -= std::distance(dead, entries.end());
    entries.erase(dead, entries.end());
    bucket = entries.empty() ? waiting_.erase(bucket) : std::next(bucket);
  }
}

void BatchQueue::TakeLocked(const BatchPlan& plan, absl::Time now, Batch* batch) {
  batch->entries.clear();
  batch->entries.reserve(plan.rows);
  batch->started = now;
  for (const auto& [length, count] : plan.takes) {
    auto bucket = waiting_.find(length);
    auto& entries = bucket->second;
    std::move(entries.begin(), entries.begin() + count, std::back_inserter(batch->entries));
    entries.erase(entries.begin(), entries.begin() + count);
    if (entries.empty()) waiting_.erase(bucket);
  }
  waiting_sequences_ -= static_cast<int64_t>(batch->entries.size());
  cut_tokens_ += int64_t{plan.rows} * plan.seq_len;
}

void BatchQueue::Release(int64_t num_tokens) {
  int64_t requests = 0;
  int64_t sequences = 0;
  {
    absl::MutexLock lock(&mu_);
    --outstanding_requests_;
    outstanding_tokens_ -= num_tokens;
    requests = outstanding_requests_;
    sequences = waiting_sequences_;
  }
  ReportDepth(requests, sequences);
}

void BatchQueue::Answered() {
  absl::MutexLock lock(&mu_);
  --unanswered_;
}

void BatchQueue::StartDrain() {
  absl::MutexLock lock(&mu_);
  if (state_ == State::kServing) state_ = State::kDraining;
}

bool BatchQueue::AwaitIdle(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  // Now() + InfiniteDuration() is InfiniteFuture(): no deadline.
  return clock_->AwaitWithDeadline(&mu_, absl::Condition(this, &BatchQueue::Idle),
                                   clock_->Now() + timeout);
}

void BatchQueue::Stop() {
  absl::MutexLock lock(&mu_);
  state_ = State::kStopped;
}

std::vector<std::shared_ptr<PendingRequest>> BatchQueue::TakeAll() {
  std::vector<std::shared_ptr<PendingRequest>> requests;
  absl::flat_hash_set<const PendingRequest*> seen;
  absl::MutexLock lock(&mu_);
  for (auto& [length, entries] : waiting_) {
    for (auto& entry : entries) {
      if (seen.insert(entry.request.get()).second) {
        requests.push_back(std::move(entry.request));
      }
    }
  }
  waiting_.clear();
  waiting_sequences_ = 0;
  return requests;
}

bool BatchQueue::HasWorkOrStopped() const { return state_ == State::kStopped || !waiting_.empty(); }

bool BatchQueue::Idle() const { return unanswered_ == 0; }

void BatchQueue::ReportDepth(int64_t requests, int64_t sequences) const {
  if (observer_ != nullptr) observer_->OnQueueDepth(requests, sequences);
}

}  // namespace securebert::batching
