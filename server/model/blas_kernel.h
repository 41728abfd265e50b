// Which OpenBLAS kernel LibTorch's CPU matrix products run on, for the
// start-up log.
//
// OpenBLAS (Debian's is built for every x86 kernel) picks its kernel by CPU
// model when it loads, unless OPENBLAS_CORETYPE names one. On an AVX-512 CPU
// the difference is large: on the 2-core AMD EPYC VM of docs/performance.md
// its own choice (Cooperlake) ran a 512x768x3072 product at 168 GFLOP/s on
// one core, OPENBLAS_CORETYPE=Haswell at 82. So the server logs the kernel
// and warns when an environment setting holds an AVX-512 CPU to an older
// kernel.
//
// Thread safety: pure functions or reads of process state.
#ifndef SECUREBERT_SERVER_MODEL_BLAS_KERNEL_H_
#define SECUREBERT_SERVER_MODEL_BLAS_KERNEL_H_

#include <string>

#include "absl/strings/string_view.h"

namespace securebert::model {

// The kernel OpenBLAS runs, lower case ("haswell", "cooperlake"); "" when the
// BLAS LibTorch uses is not OpenBLAS.
std::string OpenBlasCoreName();

// Whether this CPU has AVX-512 F, BW, DQ and VL (OpenBLAS's SkylakeX kernel
// and later need them).
bool CpuHasAvx512();

// Whether `core_name` is one of OpenBLAS's AVX-512 kernels.
bool IsAvx512Kernel(absl::string_view core_name);

// The kernel and who chose it, e.g. "OpenBLAS haswell (OPENBLAS_CORETYPE=
// Haswell)"; "not OpenBLAS".
std::string DescribeBlasKernel();

// A warning when OpenBLAS runs a non-AVX-512 kernel on an AVX-512 CPU
// because OPENBLAS_CORETYPE says so; "" otherwise.
std::string SlowBlasKernelWarning();

}  // namespace securebert::model

#endif  // SECUREBERT_SERVER_MODEL_BLAS_KERNEL_H_
