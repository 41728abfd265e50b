// Tuning of glibc's malloc for LibTorch's CPU activations.
//
// A CPU forward allocates and frees tens of megabytes of activations per
// layer (e.g. the 1024 x 3072 FFN intermediate is 12.6 MB). With glibc's
// defaults, blocks that large are mmap'ed and unmapped again, and sizeable
// free memory at the top of the heap is given back, so every forward
// page-faults its activations in anew: on a 2-core VM that cost up to half of
// a 256-token forward (docs/performance.md). TuneHostAllocator keeps such
// blocks in the heap for reuse, which glibc's mallopt is made for: blocks up
// to 32 MiB (glibc's largest mmap threshold) come from the heap, free space
// up to 512 MiB stays mapped, and the heap grows in 64 MiB steps. Memory
// stays bounded by the largest working set seen, and the engine's CPU batch
// budget (batching::kCpuBatchTokens) keeps every activation under 32 MiB.
//
// Thread safety: call once, early in main, before the model loads; it
// changes process-wide allocator settings.
#ifndef SECUREBERT_SERVER_MODEL_HOST_ALLOCATOR_H_
#define SECUREBERT_SERVER_MODEL_HOST_ALLOCATOR_H_

#include <cstdint>

#include "absl/status/status.h"

namespace securebert::model {

struct HostAllocatorSettings {
  int64_t mmap_threshold_bytes = int64_t{32} << 20;  // M_MMAP_THRESHOLD
  int64_t trim_threshold_bytes = int64_t{512} << 20;  // M_TRIM_THRESHOLD
  int64_t top_pad_bytes = int64_t{64} << 20;          // M_TOP_PAD
};

// Applies `settings` with mallopt. FailedPrecondition naming the parameter
// if glibc refuses one (e.g. a threshold above its limit); Unimplemented
// where the C library is not glibc.
absl::Status TuneHostAllocator(const HostAllocatorSettings& settings = {});

}  // namespace securebert::model

#endif  // SECUREBERT_SERVER_MODEL_HOST_ALLOCATOR_H_
