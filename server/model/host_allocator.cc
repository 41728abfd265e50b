#include "model/host_allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "absl/strings/str_cat.h"

namespace securebert::model {

absl::Status TuneHostAllocator(const HostAllocatorSettings& settings) {
#if defined(__GLIBC__)
  const struct {
    int param;
    const char* name;
    int64_t value;
  } params[] = {
      {M_MMAP_THRESHOLD, "M_MMAP_THRESHOLD", settings.mmap_threshold_bytes},
      {M_TRIM_THRESHOLD, "M_TRIM_THRESHOLD", settings.trim_threshold_bytes},
      {M_TOP_PAD, "M_TOP_PAD", settings.top_pad_bytes},
  };
  for (const auto& p : params) {
    if (p.value < 0 || p.value > INT32_MAX || mallopt(p.param, static_cast<int>(p.value)) != 1) {
      return absl::FailedPreconditionError(
          absl::StrCat("glibc refused mallopt(", p.name, ", ", p.value, ")"));
    }
  }
  return absl::OkStatus();
#else
  (void)settings;
  return absl::UnimplementedError("allocator tuning needs glibc's mallopt");
#endif
}

}  // namespace securebert::model
