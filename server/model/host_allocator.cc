#include "model/host_allocator.h"

#include <dlfcn.h>
#include <errno.h>
#include <sys/types.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <string>

#include "absl/strings/str_cat.h"

namespace securebert::model {
namespace {

// jemalloc's control interface, looked up at run time so that this library
// links with or without jemalloc; null when malloc is not jemalloc's.
using MallctlFn = int (*)(const char*, void*, size_t*, void*, size_t);

MallctlFn Mallctl() { return reinterpret_cast<MallctlFn>(dlsym(RTLD_DEFAULT, "mallctl")); }

// Writes -1 (never purge) to `name`; jemalloc's error number, 0 on success.
int NeverPurge(MallctlFn mallctl, const std::string& name) {
  ssize_t never = -1;
  return mallctl(name.c_str(), nullptr, nullptr, &never, sizeof(never));
}

absl::Status Refused(const std::string& name, int err) {
  return absl::FailedPreconditionError(
      absl::StrCat("jemalloc refused mallctl(", name, "): error ", err));
}

absl::Status TuneJemalloc(MallctlFn mallctl) {
  // "arenas.*" is the default for arenas created later; each existing arena
  // has its own. Arena slots not yet initialized answer EFAULT and take the
  // default when they are.
  static constexpr const char* kDecays[] = {"dirty_decay_ms", "muzzy_decay_ms"};
  for (const char* decay : kDecays) {
    const std::string name = absl::StrCat("arenas.", decay);
    if (const int err = NeverPurge(mallctl, name); err != 0) return Refused(name, err);
  }
  unsigned narenas = 0;
  size_t size = sizeof(narenas);
  if (const int err = mallctl("arenas.narenas", &narenas, &size, nullptr, 0); err != 0) {
    return Refused("arenas.narenas", err);
  }
  for (unsigned i = 0; i < narenas; ++i) {
    for (const char* decay : kDecays) {
      const std::string name = absl::StrCat("arena.", i, ".", decay);
      const int err = NeverPurge(mallctl, name);
      if (err == EFAULT) break;
      if (err != 0) return Refused(name, err);
    }
  }
  return absl::OkStatus();
}

absl::Status TuneGlibc(const HostAllocatorSettings& settings) {
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
  return absl::UnimplementedError("allocator tuning needs jemalloc or glibc's mallopt");
#endif
}

}  // namespace

std::string HostAllocatorName() {
  if (const MallctlFn mallctl = Mallctl(); mallctl != nullptr) {
    const char* version = nullptr;
    size_t size = sizeof(version);
    if (mallctl("version", &version, &size, nullptr, 0) == 0 && version != nullptr) {
      return absl::StrCat("jemalloc ", version);
    }
    return "jemalloc";
  }
#if defined(__GLIBC__)
  return "glibc";
#else
  return "unknown";
#endif
}

absl::Status TuneHostAllocator(const HostAllocatorSettings& settings) {
  if (const MallctlFn mallctl = Mallctl(); mallctl != nullptr) return TuneJemalloc(mallctl);
  return TuneGlibc(settings);
}

}  // namespace securebert::model
