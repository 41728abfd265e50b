#include "app/cpu_budget.h"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

namespace securebert::app {
namespace {

std::optional<int32_t> CeilRatio(int64_t quota, int64_t period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  return static_cast<int32_t>(std::max<int64_t>(1, (quota + period - 1) / period));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace

std::optional<int32_t> QuotaFromCpuMax(const std::string& contents) {
  std::istringstream in(contents);
  std::string quota;
  int64_t period = 0;
  if (!(in >> quota >> period) || quota == "max") return std::nullopt;
  try {
    return CeilRatio(std::stoll(quota), period);
  } catch (const std::exception&) {
    return std::nullopt;  // not a number: no quota we can read
  }
}

std::optional<int32_t> QuotaFromCfs(const std::string& quota_us, const std::string& period_us) {
  try {
    return CeilRatio(std::stoll(quota_us), std::stoll(period_us));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

int32_t AvailableCores() {
  int32_t cores = static_cast<int32_t>(std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = std::max(1, CPU_COUNT(&set));
  std::optional<int32_t> quota = QuotaFromCpuMax(ReadFile("/sys/fs/cgroup/cpu.max"));
  if (!quota) {
    quota = QuotaFromCfs(ReadFile("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
                         ReadFile("/sys/fs/cgroup/cpu/cpu.cfs_period_us"));
  }
  return quota ? std::min(cores, *quota) : cores;
}

}  // namespace securebert::app
