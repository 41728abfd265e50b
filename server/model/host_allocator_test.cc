// TuneHostAllocator: after it, activation-sized blocks come from the heap
// (glibc's count of mmap'ed chunks does not move); bad settings are refused.
#include "model/host_allocator.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include "gtest/gtest.h"

namespace securebert::model {
namespace {

// Chunks glibc currently holds through mmap, across all arenas.
int MmappedChunks() { return static_cast<int>(mallinfo2().hblks); }

// Allocates `bytes`, touches them, and reports whether that block was
// mmap'ed; frees it again.
bool AllocationIsMmapped(size_t bytes) {
  const int before = MmappedChunks();
  void* volatile block = std::malloc(bytes);
  std::memset(block, 1, bytes);
  const bool mmapped = MmappedChunks() > before;
  std::free(block);
  return mmapped;
}

TEST(HostAllocatorTest, ActivationSizedBlocksComeFromTheHeapAfterTuning) {
  // Before tuning, glibc's default threshold (128 KiB, rising only after a
  // mmap'ed block is freed) mmaps a fresh 20 MB block.
  ASSERT_TRUE(AllocationIsMmapped(20u << 20));
  // Freeing it raised glibc's own threshold to 20 MB, so without tuning a
  // 30 MB block would be mapped next; tuned (32 MiB), it is not.
  ASSERT_TRUE(TuneHostAllocator().ok());
  EXPECT_FALSE(AllocationIsMmapped(30u << 20));
  EXPECT_FALSE(AllocationIsMmapped(8u << 20));
  EXPECT_FALSE(AllocationIsMmapped(20u << 20));
}

TEST(HostAllocatorTest, OutOfRangeSettingIsRefused) {
  HostAllocatorSettings settings;
  settings.mmap_threshold_bytes = int64_t{1} << 40;
  const absl::Status status = TuneHostAllocator(settings);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("M_MMAP_THRESHOLD"), std::string::npos);
}

}  // namespace
}  // namespace securebert::model
