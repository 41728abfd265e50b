// The batching policy: which waiting entries form the next batch, and whether
// a free worker should cut it now or wait for a fuller one.
//
// BatchQueue calls Plan() with its lock held each time a worker asks for work;
// the planner keeps no state between calls, so it is unit-tested on
// hand-built LengthBuckets and times.
//
// Policy (see Plan() for details). A batch is a window of the length-sorted
// waiting set: a longest length L, filled from L downwards (FIFO within a
// length) while rows <= min(max_batch_size, max_batch_tokens / L) and real
// tokens >= min_padding_efficiency x rows x L. Length grouping comes from
// that window; fairness from the anchor: the oldest entry's best window runs
// unless another window is full and the oldest is not yet overdue. It is
// overdue once it has waited fairness_bound_us, or once batches cut after it
// arrived hold fairness_bound_tokens padded tokens (its age in work, which a
// slow CPU forward cannot stretch). So an entry is passed over by at most
// about fairness_bound_tokens of work (plus the batches already running), and
// every batch keeps the padding efficiency bound, except that an entry may
// always run alone.
//
// Thread safety: immutable after construction; Plan() is const and may run
// on any thread.
#ifndef SECUREBERT_SERVER_BATCHING_BATCH_PLANNER_H_
#define SECUREBERT_SERVER_BATCHING_BATCH_PLANNER_H_

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "batching/engine_options.h"
#include "batching/queue_entry.h"

namespace securebert::batching {

// What the planner decided.
struct BatchPlan {
  // (length, count): take `count` entries from the front of that length's
  // bucket; longest length first. Empty when nothing waits.
  std::vector<std::pair<int32_t, int32_t>> takes;
  int32_t rows = 0;         // sequences in the batch
  int32_t seq_len = 0;      // padded length (its longest entry)
  int64_t real_tokens = 0;  // tokens of its entries
  bool full = false;        // rows reached the row cap for seq_len
  // Cut once the clock reaches this; InfinitePast() means now. A later time
  // means a worker should wait for a fuller batch (or a new arrival).
  absl::Time cut_at = absl::InfinitePast();
};

class BatchPlanner {
 public:
  explicit BatchPlanner(const EngineOptions& options);

  // Plans the next batch from `waiting` at `progress`: picks the oldest entry
  // (the anchor) and its best window (most real tokens); takes instead the
  // full window holding the oldest entry if the anchor's is not full and the
  // anchor is not overdue (see above). A plan that is not full is cut at
  // anchor.enqueued + max_queue_delay_us.
  BatchPlan Plan(const LengthBuckets& waiting, const QueueProgress& progress) const;

  // Rows a batch padded to `seq_len` may hold.
  int32_t RowCap(int32_t seq_len) const;

 private:
  struct Candidate {
    LengthBuckets::const_iterator top;   // bucket of the longest entry
    const QueueEntry* anchor = nullptr;  // entry that must be included, if any
    int32_t walked = 0;                  // entries the descending walk takes
    int32_t rows = 0;                    // walked, plus the anchor
    int64_t real_tokens = 0;             // tokens of those rows
    uint64_t oldest = 0;                 // lowest arrival among them
    bool full = false;                   // rows == RowCap(top length)
    bool valid = false;                  // whether any window was found
  };

  // The best window whose longest length is top's: the largest prefix of the
  // descending walk from `top` (skipping `anchor`, which is always included)
  // that keeps the row cap and the efficiency bound.
  Candidate Fill(const LengthBuckets& waiting, LengthBuckets::const_iterator top,
                 const QueueEntry* anchor) const;
  // The anchor's window with the most real tokens (ties: shorter).
  Candidate BestAnchored(const LengthBuckets& waiting, const QueueEntry& anchor) const;
  // Among full windows, the one holding the oldest entry.
  std::optional<Candidate> OldestFull(const LengthBuckets& waiting) const;
  BatchPlan Materialize(const LengthBuckets& waiting, const Candidate& chosen) const;
  bool Efficient(int64_t real_tokens, int32_t rows, int32_t seq_len) const;

  const int32_t max_batch_tokens_;
  const int32_t max_batch_size_;
  const absl::Duration max_queue_delay_;
  const absl::Duration fairness_bound_;
  const int64_t fairness_bound_tokens_;
  const double min_padding_efficiency_;
};

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_BATCH_PLANNER_H_
