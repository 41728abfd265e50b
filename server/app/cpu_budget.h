// How many cores this process may use: the CPUs it may run on, further
// limited by a cgroup CPU quota (a container's CPU limit).
//
// std::thread::hardware_concurrency() counts the node's cores: a pod limited
// to 2 CPUs on a 64-core node would start 64 model instances and 64 pool
// threads that the quota then throttles. The server sizes its instances and
// pool from this instead.
//
// Thread safety: pure functions, and reads of /proc and /sys.
#ifndef SECUREBERT_SERVER_APP_CPU_BUDGET_H_
#define SECUREBERT_SERVER_APP_CPU_BUDGET_H_

#include <cstdint>
#include <optional>
#include <string>

namespace securebert::app {

// The CPU quota a cgroup v2 `cpu.max` file states ("200000 100000": 2 CPUs),
// rounded up; nullopt for "max" (no quota) or text that is not a quota.
std::optional<int32_t> QuotaFromCpuMax(const std::string& contents);

// The same from cgroup v1's cpu.cfs_quota_us and cpu.cfs_period_us (-1: none).
std::optional<int32_t> QuotaFromCfs(const std::string& quota_us, const std::string& period_us);

// min(CPUs in this process's affinity mask, the cgroup quota if any), >= 1.
int32_t AvailableCores();

}  // namespace securebert::app

#endif  // SECUREBERT_SERVER_APP_CPU_BUDGET_H_
