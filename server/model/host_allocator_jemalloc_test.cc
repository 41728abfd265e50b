// TuneHostAllocator in a binary linked with jemalloc (as securebert-server
// is): it recognises jemalloc and turns page purging off for present and
// future arenas.
#include <jemalloc/jemalloc.h>
#include <sys/types.h>

#include <string>

#include "gtest/gtest.h"
#include "model/host_allocator.h"

namespace securebert::model {
namespace {

ssize_t ReadDecay(const std::string& name) {
  ssize_t value = 0;
  size_t size = sizeof(value);
  EXPECT_EQ(mallctl(name.c_str(), &value, &size, nullptr, 0), 0) << name;
  return value;
}

TEST(HostAllocatorJemallocTest, NamesJemalloc) {
  EXPECT_EQ(HostAllocatorName().rfind("jemalloc ", 0), 0u) << HostAllocatorName();
}

TEST(HostAllocatorJemallocTest, TuningTurnsPurgingOffForEveryArena) {
  // jemalloc's default decays purge freed pages after seconds.
  ASSERT_GE(ReadDecay("arena.0.dirty_decay_ms"), 0);
  ASSERT_TRUE(TuneHostAllocator().ok());
  EXPECT_EQ(ReadDecay("arena.0.dirty_decay_ms"), -1);
  EXPECT_EQ(ReadDecay("arena.0.muzzy_decay_ms"), -1);
  EXPECT_EQ(ReadDecay("arenas.dirty_decay_ms"), -1);
  EXPECT_EQ(ReadDecay("arenas.muzzy_decay_ms"), -1);
  // An arena created after tuning inherits it.
  unsigned created = 0;
  size_t size = sizeof(created);
  ASSERT_EQ(mallctl("arenas.create", &created, &size, nullptr, 0), 0);
  EXPECT_EQ(ReadDecay("arena." + std::to_string(created) + ".dirty_decay_ms"), -1);
}

}  // namespace
}  // namespace securebert::model
