// Cost of planning one batch, which runs under the queue's lock: waiting
// sets of N entries with lengths spread over 8..512 tokens.
#include <random>

#include "batching/batch_planner.h"
#include "benchmark/benchmark.h"

namespace securebert::batching {
namespace {

void BM_PlanMixedLengths(benchmark::State& state) {
  const auto count = static_cast<int32_t>(state.range(0));
  LengthBuckets waiting;
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> length(8, 512);
  const absl::Time start = absl::FromUnixSeconds(1000);
  for (int32_t i = 0; i < count; ++i) {
    QueueEntry entry;
    entry.num_tokens = length(rng);
    entry.arrival = static_cast<uint64_t>(i);
    entry.enqueued = start + absl::Microseconds(i);
    waiting[entry.num_tokens].push_back(std::move(entry));
  }
  const BatchPlanner planner{EngineOptions{}};
  for (auto _ : state) {
    benchmark::DoNotOptimize(planner.Plan(waiting, {start}));
  }
  state.SetLabel(std::to_string(waiting.size()) + " distinct lengths");
}
BENCHMARK(BM_PlanMixedLengths)->Arg(16)->Arg(256)->Arg(4096)->Arg(65536);

}  // namespace
}  // namespace securebert::batching

BENCHMARK_MAIN();
