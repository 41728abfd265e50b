// Tuning of the C library's allocator for LibTorch's CPU activations.
//
// A CPU forward allocates and frees tens of megabytes of activations per
// layer (e.g. the 1024 x 3072 FFN intermediate is 12.6 MB). Left to their
// defaults, allocators give such blocks back to the kernel when they are
// freed, so every forward page-faults its activations in anew: on a 2-core
// VM that cost up to half of a 256-token forward (docs/performance.md).
// TuneHostAllocator keeps freed activation memory mapped for reuse, for the
// allocator the process runs on:
//
// - jemalloc (securebert-server and the engine bench link it unless CMake's
//   SECUREBERT_JEMALLOC is off, as in sanitizer builds): page purging off (dirty and muzzy decay
//   -1) for every arena, present and future. Memory stays bounded by the
//   largest working set seen, and that working set holds still in service:
//   glibc's per-thread arenas fragment under mixed batch shapes, so its RSS
//   climbed by 15-22 % over a 10-minute soak where jemalloc's stayed flat
//   (docs/performance.md).
// - glibc: mallopt keeps blocks up to 32 MiB (glibc's largest mmap
//   threshold) in the heap, free space up to 512 MiB mapped, and grows the
//   heap in 64 MiB steps. The engine's CPU batch budget
//   (batching::kCpuBatchTokens) keeps every activation under 32 MiB.
//
// Thread safety: call once, early in main, before the model loads; it
// changes process-wide allocator settings.
#ifndef SECUREBERT_SERVER_MODEL_HOST_ALLOCATOR_H_
#define SECUREBERT_SERVER_MODEL_HOST_ALLOCATOR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace securebert::model {

// glibc's parameters (unused under jemalloc).
struct HostAllocatorSettings {
  int64_t mmap_threshold_bytes = int64_t{32} << 20;   // M_MMAP_THRESHOLD
  int64_t trim_threshold_bytes = int64_t{512} << 20;  // M_TRIM_THRESHOLD
  int64_t top_pad_bytes = int64_t{64} << 20;          // M_TOP_PAD
};

// The allocator serving malloc in this process: "jemalloc <version>" when
// jemalloc is linked in (its mallctl is visible), else "glibc" or "unknown".
std::string HostAllocatorName();

// Tunes the allocator HostAllocatorName() names. FailedPrecondition naming
// the parameter if the allocator refuses one (e.g. a glibc threshold above
// its limit); Unimplemented for an allocator it does not know.
absl::Status TuneHostAllocator(const HostAllocatorSettings& settings = {});

}  // namespace securebert::model

#endif  // SECUREBERT_SERVER_MODEL_HOST_ALLOCATOR_H_
