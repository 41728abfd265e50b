#include "model/blas_kernel.h"

#include <dlfcn.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace securebert::model {

std::string OpenBlasCoreName() {
  // Looked up at run time: LibTorch links the system BLAS, which may or may
  // not be OpenBLAS.
  using CoreNameFn = char* (*)();
  auto fn = reinterpret_cast<CoreNameFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (fn == nullptr) return "";
  const char* name = fn();
  return name == nullptr ? "" : absl::AsciiStrToLower(name);
}

bool CpuHasAvx512() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

bool IsAvx512Kernel(absl::string_view core_name) {
  return core_name == "skylakex" || core_name == "cooperlake" || core_name == "sapphirerapids";
}

std::string DescribeBlasKernel() {
  const std::string core = OpenBlasCoreName();
  if (core.empty()) return "not OpenBLAS";
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  return coretype == nullptr
             ? absl::StrCat("OpenBLAS ", core, " (its own choice)")
             : absl::StrCat("OpenBLAS ", core, " (OPENBLAS_CORETYPE=", coretype, ")");
}

std::string SlowBlasKernelWarning() {
  const std::string core = OpenBlasCoreName();
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  if (core.empty() || coretype == nullptr || IsAvx512Kernel(core) || !CpuHasAvx512()) return "";
  return absl::StrCat("OPENBLAS_CORETYPE=", coretype, " holds this AVX-512 CPU to OpenBLAS's ",
                      core,
                      " kernel; without it OpenBLAS picks an AVX-512 kernel (about 2x "
                      "faster matrix products measured, docs/performance.md)");
}

}  // namespace securebert::model
