#include "client/load/load_runner.h"

#include <algorithm>
#include <cstdio>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace securebert::client {

LoadRunner::LoadRunner(const Options& options, const RequestSettings& settings,
                       const Workload* workload,
                       std::vector<std::shared_ptr<grpc::Channel>> channels)
    : options_(options), channels_(std::move(channels)) {
  for (const std::shared_ptr<grpc::Channel>& channel : channels_) {
    stubs_.push_back(v1::SecureBert::NewStub(channel));
  }
  SlotContext context;
  context.workload = workload;
  context.settings = settings;
  context.inputs_per_request = std::max(options.inputs_per_request, 1);
  context.deadline = options.deadline;
  context.listener = this;
  for (int i = 0; i < std::max(options.concurrency, 1); ++i) {
    context.stub = stubs_[i % stubs_.size()].get();
    slots_.push_back(MakeCallSlot(options.call, context));
  }
}

LoadRunner::~LoadRunner() {
  // Streams must be finished before their slots go (a no-op after Run).
  for (const std::unique_ptr<CallSlot>& slot : slots_) slot->Close();
}

absl::StatusOr<LoadRunner::Result> LoadRunner::Run() {
  const absl::Time connect_deadline = absl::Now() + options_.connect_timeout;
  for (size_t i = 0; i < channels_.size(); ++i) {
    if (!channels_[i]->WaitForConnected(absl::ToChronoTime(connect_deadline))) {
      return absl::UnavailableError(absl::StrCat("connection ", i + 1, " of ", channels_.size(),
                                                 ": cannot connect within ",
                                                 absl::FormatDuration(options_.connect_timeout)));
    }
  }
  std::thread monitor([this] { Monitor(); });
  if (options_.warmup_requests > 0) {
    LoadStats warmup;
    RunPhase("warm-up", &warmup, options_.warmup_requests, absl::InfiniteFuture());
  }
  LoadStats measured;
  const absl::Time start = absl::Now();
  const bool timed = options_.duration > absl::ZeroDuration();
  const absl::Time last_answer =
      RunPhase("load", &measured, timed ? -1 : std::max<int64_t>(options_.total_requests, 1),
               timed ? start + options_.duration : absl::InfiniteFuture());
  {
    absl::MutexLock lock(&mu_);
    stop_monitor_ = true;
  }
  monitor.join();
  for (const std::unique_ptr<CallSlot>& slot : slots_) slot->Close();
  return Result{measured.Summarize(), std::max(last_answer - start, absl::ZeroDuration())};
}

absl::Time LoadRunner::RunPhase(const char* name, LoadStats* stats, int64_t limit, absl::Time end) {
  {
    absl::MutexLock lock(&mu_);
    phase_name_ = name;
    stats_ = stats;
    phase_limit_ = limit;
    phase_end_ = end;
    phase_start_ = absl::Now();
    phase_sent_ = 0;
    last_answer_ = phase_start_;
    idle_slots_.clear();
    for (const std::unique_ptr<CallSlot>& slot : slots_) idle_slots_.push_back(slot.get());
  }
  if (options_.rps > 0) {
    PaceOpenLoop();
  } else {
    StartClosedLoop();
  }
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* in_flight) { return *in_flight == 0; }, &in_flight_));
  stats_ = nullptr;  // The caller's stats may go now.
  return last_answer_;
}

bool LoadRunner::ClaimLocked(absl::Time now, int64_t* index) {
  const bool over = phase_limit_ >= 0 ? phase_sent_ >= phase_limit_ : now >= phase_end_;
  if (over) return false;
  ++phase_sent_;
  ++in_flight_;
  *index = next_index_++;
  return true;
}

void LoadRunner::StartClosedLoop() {
  std::vector<std::pair<CallSlot*, int64_t>> starts;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    int64_t index = 0;
    for (const std::unique_ptr<CallSlot>& slot : slots_) {
      if (!ClaimLocked(now, &index)) break;
      starts.emplace_back(slot.get(), index);
    }
  }
  // Each slot goes on by itself from OnRequestDone.
  for (const auto& [slot, index] : starts) slot->Start(index, absl::Now());
}

void LoadRunner::PaceOpenLoop() {
  const absl::Duration interval = absl::Seconds(1) / options_.rps;
  const absl::Time start = absl::Now();
  for (int64_t i = 0;; ++i) {
    const absl::Time scheduled = start + interval * i;
    {
      absl::MutexLock lock(&mu_);
      const bool over = phase_limit_ >= 0 ? phase_sent_ >= phase_limit_ : scheduled >= phase_end_;
      if (over) return;
    }
    absl::SleepFor(scheduled - absl::Now());  // Does nothing when behind schedule.
    CallSlot* slot = nullptr;
    int64_t index = 0;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](std::vector<CallSlot*>* idle) { return !idle->empty(); }, &idle_slots_));
      slot = idle_slots_.back();
      idle_slots_.pop_back();
      ++phase_sent_;
      ++in_flight_;
      index = next_index_++;
    }
    slot->Start(index, scheduled);
  }
}

void LoadRunner::OnRequestDone(CallSlot* slot, absl::Time intended_start,
                               const absl::Status& status, int64_t tokens,
                               absl::Duration model_time) {
  const absl::Time now = absl::Now();
  bool again = false;
  int64_t next = 0;
  {
    absl::MutexLock lock(&mu_);
    // Recorded before in_flight_ drops, so that a finished phase has all.
    stats_->Record(now - intended_start, status, tokens, model_time);
    --in_flight_;
    last_answer_ = std::max(last_answer_, now);
    if (options_.rps > 0) {
      idle_slots_.push_back(slot);
    } else {
      again = ClaimLocked(now, &next);
    }
  }
  if (again) slot->Start(next, now);
}

void LoadRunner::Monitor() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_monitor_), options_.monitor_interval)) {
        break;
      }
    }
    const absl::Time now = absl::Now();
    for (const std::unique_ptr<CallSlot>& slot : slots_) slot->EnforceDeadline(now);
    if (options_.show_progress) PrintProgress();
  }
  if (options_.show_progress) std::fprintf(stderr, "\r\033[K");
}

void LoadRunner::PrintProgress() {
  std::string line;
  {
    absl::MutexLock lock(&mu_);
    const int64_t answered = stats_ == nullptr ? 0 : stats_->count();
    const int64_t errors = stats_ == nullptr ? 0 : stats_->errors();
    const double elapsed_s = absl::ToDoubleSeconds(absl::Now() - phase_start_);
    const std::string of = phase_limit_ >= 0
                               ? absl::StrCat("/", phase_limit_)
                               : absl::StrFormat(" in %.0f/%.0f s", elapsed_s,
                                                 absl::ToDoubleSeconds(phase_end_ - phase_start_));
    line = absl::StrFormat("%s: %d%s answered, %d errors, %d in flight, %.1f req/s", phase_name_,
                           answered, of, errors, in_flight_,
                           elapsed_s > 0 ? static_cast<double>(answered) / elapsed_s : 0.0);
  }
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

}  // namespace securebert::client
