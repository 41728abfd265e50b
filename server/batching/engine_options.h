// Settings of the batching engine, and their check against a loaded model.
//
// main.cc maps flags onto EngineOptions; Engine::Create validates them once
// and the engine's parts copy what they need into const members. Plain data.
#ifndef SECUREBERT_SERVER_BATCHING_ENGINE_OPTIONS_H_
#define SECUREBERT_SERVER_BATCHING_ENGINE_OPTIONS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "batching/model.h"

namespace securebert::batching {

// One shape a warm-up forward runs.
struct WarmupShape {
  int32_t rows = 0;     // sequences in the batch
  int32_t seq_len = 0;  // padded length
  bool operator==(const WarmupShape& other) const {
    return rows == other.rows && seq_len == other.seq_len;
  }
};

struct EngineOptions {
  // Longest input in tokens, <s> and </s> included: 0 for the model's
  // (ModelSpec::max_input_tokens); may only lower it, to at least 3.
  int32_t max_input_tokens = 0;
  // Padded cost budget of one batch: longest sequence x rows. An input
  // longer than the budget runs alone (a batch of one row). 0: chosen for
  // the device by ResolveEngineOptions (kCpuBatchTokens or kCudaBatchTokens).
  int32_t max_batch_tokens = 0;
  // Most sequences in one batch.
  int32_t max_batch_size = 32;
  // How long a free worker may wait for a fuller batch, measured from the
  // oldest waiting entry. 0: take what is waiting now; the next batch forms
  // while the current one runs.
  int64_t max_queue_delay_us = 0;
  // A waiting entry older than this is served next (FIFO across length
  // groups): it bounds how long length grouping may pass over an entry.
  int64_t fairness_bound_us = 100000;
  // The same bound counted in work instead of time: a waiting entry is
  // served next once batches cut after it arrived, without it, hold this
  // many padded tokens. Time alone bounds nothing when one CPU forward takes
  // longer than fairness_bound_us; work means the same on any device. 0:
  // the oldest entry always runs in the next batch.
  int64_t fairness_bound_tokens = 1024;
  // Least real tokens / computed tokens a batch keeps when the batcher groups
  // entries by length; an entry alone always satisfies it.
  double min_padding_efficiency = 0.9;
  // Admitted, unanswered requests; past it Submit refuses at once.
  int32_t max_concurrent_requests = 512;
  // Tokens of admitted, unanswered requests; past it Submit refuses at once
  // (a request is still admitted when nothing else is outstanding).
  int64_t max_queue_tokens = int64_t{1} << 20;
  // Whether a worker that cuts a batch while nothing else waits may run it
  // on the cores of idle instances too (ModelInput::core_slots), returning
  // them when the forward ends; a lending instance that gets work meanwhile
  // waits for its cores. So a lone request uses every core, and a busy
  // engine runs one forward per instance.
  bool lend_idle_cores = true;
  // Warm-up: padded lengths to run (those over max_input_tokens are skipped).
  std::vector<int32_t> warmup_seq_lens_tokens = {16, 128, 512};
  // Warm-up: batch rows to run with each length (shapes over max_batch_size,
  // or of several rows over max_batch_tokens, are skipped). Empty lists: no
  // warm-up.
  std::vector<int32_t> warmup_batch_sizes = {1, 4};
};

// Default batch budgets. On CPU a batch buys little throughput (a forward
// costs about the same per token from a few hundred tokens up), while rows
// of a batch finish together and a large budget lets a batch of short texts
// overtake the long texts waiting before them. With 128, p99 at c=16 and 64
// came to 0.94x and 0.99x the one-forward-per-request transformers peer's,
// where 1024 gave 1.43x and (in an earlier run) 2.33x, with tokens/s at c=16
// within 1 % of 1024's (docs/performance.md, "The CPU batch budget against
// the peer's p99"). Longer inputs run alone. On CUDA
// larger batches are what fill the GPU.
inline constexpr int32_t kCpuBatchTokens = 128;
inline constexpr int32_t kCudaBatchTokens = 16384;

// `options` with its automatic settings chosen for `spec`: max_input_tokens
// 0 becomes spec.max_input_tokens; max_batch_tokens 0 becomes
// kCudaBatchTokens (never less than max_input_tokens) on a "cuda..." device,
// else kCpuBatchTokens. Explicit settings are kept.
EngineOptions ResolveEngineOptions(const EngineOptions& options, const ModelSpec& spec);

// InvalidArgument naming the field and the limit when resolved `options`
// cannot serve a model described by `spec` (e.g. max_batch_tokens < 1, or
// max_input_tokens above the model's). The one place
// these rules are checked: the server exits 2 on this status.
absl::Status ValidateEngineOptions(const EngineOptions& options, const ModelSpec& spec);

// The warm-up shapes resolved `options` ask for that can occur, each once,
// in the order given (lengths outer, rows inner).
std::vector<WarmupShape> WarmupShapes(const EngineOptions& options);

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_ENGINE_OPTIONS_H_
