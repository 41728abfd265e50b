#include "batching/engine_options.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace securebert::batching {
namespace {

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

}  // namespace

EngineOptions ResolveEngineOptions(const EngineOptions& options, const ModelSpec& spec) {
  EngineOptions resolved = options;
  if (resolved.max_input_tokens == 0) resolved.max_input_tokens = spec.max_input_tokens;
  if (resolved.max_batch_tokens == 0) {
    const bool cuda = spec.device.rfind("cuda", 0) == 0;
    // On CUDA a full-length input still batches with others; on CPU it runs
    // alone, which costs it nothing (batching buys a CPU no throughput).
    resolved.max_batch_tokens =
        cuda ? std::max(kCudaBatchTokens, resolved.max_input_tokens) : kCpuBatchTokens;
  }
  return resolved;
}

absl::Status ValidateEngineOptions(const EngineOptions& options, const ModelSpec& spec) {
  if (spec.max_input_tokens < 1 || spec.hidden_size < 1 || spec.vocab_size < 1) {
    return Invalid(
        absl::StrCat("model spec is incomplete: max_input_tokens=", spec.max_input_tokens,
                     " hidden_size=", spec.hidden_size, " vocab_size=", spec.vocab_size));
  }
  if (options.max_input_tokens < 3 || options.max_input_tokens > spec.max_input_tokens) {
    return Invalid(absl::StrCat("max_input_tokens=", options.max_input_tokens, " must be in 3..",
                                spec.max_input_tokens, " (the model's limit)"));
  }
  if (options.max_batch_tokens < 1) {
    return Invalid(
        absl::StrCat("max_batch_tokens=", options.max_batch_tokens,
                     " must be at least 1 (an input longer than the budget runs alone)"));
  }
  if (options.max_batch_size < 1) {
    return Invalid(absl::StrCat("max_batch_size=", options.max_batch_size, " must be at least 1"));
  }
  if (options.max_queue_delay_us < 0 || options.fairness_bound_us < 0 ||
      options.fairness_bound_tokens < 0) {
    return Invalid(absl::StrCat("max_queue_delay_us=", options.max_queue_delay_us,
                                ", fairness_bound_us=", options.fairness_bound_us,
                                " and fairness_bound_tokens=", options.fairness_bound_tokens,
                                " must not be negative"));
  }
  if (!(options.min_padding_efficiency >= 0.0 && options.min_padding_efficiency <= 1.0)) {
    return Invalid(absl::StrCat("min_padding_efficiency=", options.min_padding_efficiency,
                                " must be in 0..1"));
  }
  if (options.max_concurrent_requests < 1) {
    return Invalid(absl::StrCat("max_concurrent_requests=", options.max_concurrent_requests,
                                " must be at least 1"));
  }
  if (options.max_queue_tokens < options.max_input_tokens) {
    return Invalid(absl::StrCat("max_queue_tokens=", options.max_queue_tokens,
                                " is below max_input_tokens=", options.max_input_tokens));
  }
  return absl::OkStatus();
}

std::vector<WarmupShape> WarmupShapes(const EngineOptions& options) {
  std::vector<WarmupShape> shapes;
  for (int32_t seq_len : options.warmup_seq_lens_tokens) {
    if (seq_len < 1 || seq_len > options.max_input_tokens) continue;
    for (int32_t rows : options.warmup_batch_sizes) {
      // An input longer than the budget still runs alone: one row always can.
      if (rows < 1 || rows > options.max_batch_size ||
          (rows > 1 && int64_t{rows} * seq_len > options.max_batch_tokens)) {
        continue;
      }
      const WarmupShape shape{rows, seq_len};
      if (std::find(shapes.begin(), shapes.end(), shape) == shapes.end()) {
        shapes.push_back(shape);
      }
    }
  }
  return shapes;
}

}  // namespace securebert::batching
