#include "batching/batch_planner.h"

#include <algorithm>
#include <iterator>
#include <limits>

namespace securebert::batching {
namespace {

const QueueEntry& Oldest(const LengthBuckets& waiting) {
  const QueueEntry* oldest = nullptr;
  for (const auto& [length, entries] : waiting) {
    if (oldest == nullptr || entries.front().arrival < oldest->arrival) {
      oldest = &entries.front();
    }
  }
  return *oldest;
}

// How many entries of a bucket the walk skips: the anchor, when the bucket is
// the anchor's (it is that bucket's front, being the oldest entry of all).
size_t Skipped(int32_t length, const QueueEntry* anchor) {
  return anchor != nullptr && anchor->num_tokens == length ? 1 : 0;
}

}  // namespace

BatchPlanner::BatchPlanner(const EngineOptions& options)
    : max_batch_tokens_(options.max_batch_tokens),
      max_batch_size_(options.max_batch_size),
      max_queue_delay_(absl::Microseconds(options.max_queue_delay_us)),
      fairness_bound_(absl::Microseconds(options.fairness_bound_us)),
      fairness_bound_tokens_(options.fairness_bound_tokens),
      min_padding_efficiency_(options.min_padding_efficiency) {}

int32_t BatchPlanner::RowCap(int32_t seq_len) const {
  return std::max(1, std::min(max_batch_size_, max_batch_tokens_ / seq_len));
}

bool BatchPlanner::Efficient(int64_t real_tokens, int32_t rows, int32_t seq_len) const {
  // A hair of slack so that exactly-on-the-bound batches count as efficient.
  const double computed = static_cast<double>(rows) * seq_len;
  return static_cast<double>(real_tokens) >= min_padding_efficiency_ * computed - 1e-9;
}

BatchPlanner::Candidate BatchPlanner::Fill(const LengthBuckets& waiting,
                                           LengthBuckets::const_iterator top,
                                           const QueueEntry* anchor) const {
  const int32_t seq_len = top->first;
  const int32_t cap = RowCap(seq_len);
  Candidate state{top, anchor};
  state.oldest = std::numeric_limits<uint64_t>::max();
  if (anchor != nullptr) {
    state.rows = 1;
    state.real_tokens = anchor->num_tokens;
    state.oldest = anchor->arrival;
  }
  Candidate best = state;
  best.valid = anchor != nullptr && anchor->num_tokens == seq_len;
  for (auto it = std::make_reverse_iterator(std::next(top));
       it != waiting.rend() && state.rows < cap; ++it) {
    const auto& [length, entries] = *it;
    for (size_t i = Skipped(length, anchor); i < entries.size() && state.rows < cap; ++i) {
      ++state.walked;
      ++state.rows;
      state.real_tokens += length;
      state.oldest = std::min(state.oldest, entries[i].arrival);
      if (Efficient(state.real_tokens, state.rows, seq_len)) {
        best = state;
        best.valid = true;
      } else if (anchor == nullptr) {
        // Without an anchor the walk only lowers efficiency from here on.
        best.full = best.rows == cap;
        return best;
      }
      // With an anchor shorter than seq_len, efficiency first rises as longer
      // entries join, so the walk goes on to the row cap.
    }
  }
  best.full = best.rows == cap;
  return best;
}

BatchPlanner::Candidate BatchPlanner::BestAnchored(const LengthBuckets& waiting,
                                                   const QueueEntry& anchor) const {
  Candidate best;
  for (auto top = waiting.find(anchor.num_tokens); top != waiting.end(); ++top) {
    Candidate candidate = Fill(waiting, top, &anchor);
    if (candidate.valid && (!best.valid || candidate.real_tokens > best.real_tokens)) {
      best = candidate;
    }
  }
  return best;
}

std::optional<BatchPlanner::Candidate> BatchPlanner::OldestFull(
    const LengthBuckets& waiting) const {
  std::optional<Candidate> best;
  for (auto top = waiting.begin(); top != waiting.end(); ++top) {
    Candidate candidate = Fill(waiting, top, nullptr);
    if (candidate.valid && candidate.full && (!best || candidate.oldest < best->oldest)) {
      best = candidate;
    }
  }
  return best;
}

BatchPlan BatchPlanner::Materialize(const LengthBuckets& waiting, const Candidate& chosen) const {
  BatchPlan plan;
  plan.rows = chosen.rows;
  plan.seq_len = chosen.top->first;
  plan.real_tokens = chosen.real_tokens;
  plan.full = chosen.full;
  int32_t left = chosen.walked;
  for (auto it = std::make_reverse_iterator(std::next(chosen.top)); it != waiting.rend(); ++it) {
    const auto& [length, entries] = *it;
    const size_t skipped = Skipped(length, chosen.anchor);
    const int32_t walked = static_cast<int32_t>(std::min<size_t>(left, entries.size() - skipped));
    left -= walked;
    const int32_t count = walked + static_cast<int32_t>(skipped);
    if (count > 0) plan.takes.emplace_back(length, count);
    // Past the anchor's bucket with nothing left to walk, the plan is done.
    if (left == 0 && (chosen.anchor == nullptr || length <= chosen.anchor->num_tokens)) {
      break;
    }
  }
  return plan;
}

BatchPlan BatchPlanner::Plan(const LengthBuckets& waiting, const QueueProgress& progress) const {
  if (waiting.empty()) return BatchPlan{};
  const QueueEntry& anchor = Oldest(waiting);
  Candidate chosen = BestAnchored(waiting, anchor);
  const bool overdue = progress.now - anchor.enqueued >= fairness_bound_ ||
                       progress.cut_tokens - anchor.cut_tokens_at_arrival >= fairness_bound_tokens_;
  if (!chosen.full && !overdue) {
    if (std::optional<Candidate> full = OldestFull(waiting)) chosen = *full;
  }
  BatchPlan plan = Materialize(waiting, chosen);
  if (!plan.full && max_queue_delay_ > absl::ZeroDuration()) {
    plan.cut_at = anchor.enqueued + max_queue_delay_;
  }
  return plan;
}

}  // namespace securebert::batching
