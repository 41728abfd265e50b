// One sequence waiting to run, the length-ordered set of them, and a cut
// batch.
//
// Plain data, owned by BatchQueue (guarded by its mutex) until a worker takes
// a Batch; the PendingRequest behind each entry is shared by all the entries
// of its request.
#ifndef SECUREBERT_SERVER_BATCHING_QUEUE_ENTRY_H_
#define SECUREBERT_SERVER_BATCHING_QUEUE_ENTRY_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "batching/pending_request.h"

namespace securebert::batching {

struct QueueEntry {
  std::shared_ptr<PendingRequest> request;  // the request it belongs to
  int32_t index = 0;                        // which of the request's sequences it is
  int32_t num_tokens = 0;                   // its length, <s> and </s> included
  uint64_t arrival = 0;                     // admission order across the queue; lower is older
  absl::Time enqueued;                      // when it was admitted
  int64_t cut_tokens_at_arrival = 0;        // the queue's QueueProgress::cut_tokens then
};

// How far the queue has got: the planner's measure of an entry's age.
struct QueueProgress {
  absl::Time now;          // the clock
  int64_t cut_tokens = 0;  // padded tokens of every batch cut so far
};

// Waiting entries by length; FIFO (ascending arrival) within a length. Only
// non-empty lengths are present.
using LengthBuckets = std::map<int32_t, std::deque<QueueEntry>>;

// What a worker takes from the queue to run as one model forward.
struct Batch {
  std::vector<QueueEntry> entries;  // its rows, longest first
  absl::Time started;               // when it was cut
  int64_t left_waiting = 0;         // sequences still queued after the cut
};

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_QUEUE_ENTRY_H_
