// What this process's OpenBLAS runs, and when the server warns about it.
#include "model/blas_kernel.h"

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace securebert::model {
namespace {

TEST(BlasKernelTest, KnowsOpenBlasAvx512Kernels) {
  EXPECT_TRUE(IsAvx512Kernel("skylakex"));
  EXPECT_TRUE(IsAvx512Kernel("cooperlake"));
  EXPECT_TRUE(IsAvx512Kernel("sapphirerapids"));
  EXPECT_FALSE(IsAvx512Kernel("haswell"));
  EXPECT_FALSE(IsAvx512Kernel("zen"));
}

TEST(BlasKernelTest, ThisProcessRunsOpenBlasAndDescribesIt) {
  const std::string core = OpenBlasCoreName();
  if (!SECUREBERT_LIBTORCH_HAS_OPENBLAS) {
    // The torch wheel's LibTorch runs on MKL: no OpenBLAS, and no warning.
    EXPECT_TRUE(core.empty()) << core;
    EXPECT_EQ(DescribeBlasKernel(), "not OpenBLAS");
    EXPECT_TRUE(SlowBlasKernelWarning().empty());
    return;
  }
  // The test links LibTorch, which links Debian's OpenBLAS (scripts/setup.sh).
  ASSERT_FALSE(core.empty());
  EXPECT_NE(DescribeBlasKernel().find("OpenBLAS " + core), std::string::npos);
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  const bool held_back = coretype != nullptr && CpuHasAvx512() && !IsAvx512Kernel(core);
  EXPECT_EQ(SlowBlasKernelWarning().empty(), !held_back) << SlowBlasKernelWarning();
  if (coretype == nullptr && CpuHasAvx512()) {
    // Left to itself, OpenBLAS picks an AVX-512 kernel on an AVX-512 CPU.
    EXPECT_TRUE(IsAvx512Kernel(core)) << core;
  }
}

}  // namespace
}  // namespace securebert::model
