// Reading a container's CPU limit from the cgroup files' formats.
#include "app/cpu_budget.h"

#include <thread>

#include "gtest/gtest.h"

namespace securebert::app {
namespace {

TEST(CpuBudget, CgroupV2QuotaRoundsUp) {
  EXPECT_EQ(QuotaFromCpuMax("200000 100000\n"), 2);
  EXPECT_EQ(QuotaFromCpuMax("150000 100000"), 2);  // 1.5 CPUs: two threads may run
  EXPECT_EQ(QuotaFromCpuMax("50000 100000"), 1);
  EXPECT_EQ(QuotaFromCpuMax("max 100000\n"), std::nullopt);
  EXPECT_EQ(QuotaFromCpuMax(""), std::nullopt);
  EXPECT_EQ(QuotaFromCpuMax("garbage"), std::nullopt);
}

TEST(CpuBudget, CgroupV1QuotaRoundsUpAndMinusOneIsNone) {
  EXPECT_EQ(QuotaFromCfs("400000\n", "100000\n"), 4);
  EXPECT_EQ(QuotaFromCfs("-1", "100000"), std::nullopt);
  EXPECT_EQ(QuotaFromCfs("", ""), std::nullopt);
}

TEST(CpuBudget, AvailableCoresIsAtMostTheMachines) {
  const int32_t cores = AvailableCores();
  EXPECT_GE(cores, 1);
  EXPECT_LE(cores, static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency())));
}

}  // namespace
}  // namespace securebert::app
