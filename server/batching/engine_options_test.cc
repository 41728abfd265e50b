// EngineOptions checks against a model spec, and warm-up shape selection.
#include "batching/engine_options.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace securebert::batching {
namespace {

ModelSpec Spec() {
  ModelSpec spec;
  spec.hidden_size = 768;
  spec.vocab_size = 50265;
  spec.max_input_tokens = 512;
  return spec;
}

TEST(EngineOptionsTest, ResolvedDefaultsAreValid) {
  EXPECT_TRUE(ValidateEngineOptions(ResolveEngineOptions({}, Spec()), Spec()).ok());
}

TEST(EngineOptionsTest, AutomaticBudgetFollowsTheDevice) {
  ModelSpec cpu = Spec();
  cpu.device = "cpu";
  EXPECT_EQ(ResolveEngineOptions({}, cpu).max_batch_tokens, 128);
  ModelSpec cuda = Spec();
  cuda.device = "cuda:1";
  EXPECT_EQ(ResolveEngineOptions({}, cuda).max_batch_tokens, 16384);
  // On CUDA never below the longest input, so a full-length input batches;
  // on CPU the budget stays, and a longer input runs alone.
  ModelSpec long_inputs = cuda;
  long_inputs.max_input_tokens = 32768;
  EXPECT_EQ(ResolveEngineOptions({}, long_inputs).max_batch_tokens, 32768);
  EXPECT_EQ(ResolveEngineOptions({}, cpu).max_input_tokens, 512);
  // An explicit budget is kept.
  EngineOptions explicit_budget;
  explicit_budget.max_batch_tokens = 4096;
  EXPECT_EQ(ResolveEngineOptions(explicit_budget, cpu).max_batch_tokens, 4096);
}

TEST(EngineOptionsTest, UnresolvedAutomaticBudgetIsAnError) {
  EXPECT_EQ(ValidateEngineOptions(EngineOptions{}, Spec()).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EngineOptionsTest, BudgetBelowMaxInputTokensIsValidAndOneRowAlwaysWarmsUp) {
  // A budget below the longest input is allowed: such an input runs alone.
  EngineOptions options;
  options.max_batch_tokens = 256;
  options.warmup_seq_lens_tokens = {16, 128, 512};
  options.warmup_batch_sizes = {1, 4};
  const EngineOptions resolved = ResolveEngineOptions(options, Spec());
  EXPECT_TRUE(ValidateEngineOptions(resolved, Spec()).ok());
  EXPECT_EQ(WarmupShapes(resolved),
            (std::vector<WarmupShape>{{1, 16}, {4, 16}, {1, 128}, {1, 512}}));
  // Below one token is not a budget.
  for (int32_t bad : {0, -1}) {
    EngineOptions zero = resolved;
    zero.max_batch_tokens = bad;
    const absl::Status status = ValidateEngineOptions(zero, Spec());
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find(absl::StrCat("max_batch_tokens=", bad, " must be at least 1")),
              std::string::npos)
        << status;
  }
}

TEST(EngineOptionsTest, InputLimitDefaultsToTheModelsAndMayOnlyLowerIt) {
  EXPECT_EQ(ResolveEngineOptions({}, Spec()).max_input_tokens, 512);
  EngineOptions lowered;
  lowered.max_input_tokens = 128;
  EXPECT_EQ(ResolveEngineOptions(lowered, Spec()).max_input_tokens, 128);
  EXPECT_EQ(ResolveEngineOptions(lowered, Spec()).max_batch_tokens, 128);
  for (int32_t bad : {513, 2, -1}) {
    EngineOptions options;
    options.max_input_tokens = bad;
    const absl::Status status =
        ValidateEngineOptions(ResolveEngineOptions(options, Spec()), Spec());
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("must be in 3..512"), std::string::npos) << status;
  }
}

TEST(EngineOptionsTest, OtherOutOfRangeSettingsAreErrors) {
  auto invalid = [](auto mutate) {
    EngineOptions options = ResolveEngineOptions({}, Spec());
    mutate(options);
    return ValidateEngineOptions(options, Spec()).code() == absl::StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(invalid([](EngineOptions& o) { o.max_batch_size = 0; }));
  EXPECT_TRUE(invalid([](EngineOptions& o) { o.max_queue_delay_us = -1; }));
  EXPECT_TRUE(invalid([](EngineOptions& o) { o.fairness_bound_us = -1; }));
  EXPECT_TRUE(invalid([](EngineOptions& o) { o.fairness_bound_tokens = -1; }));
  EXPECT_TRUE(invalid([](EngineOptions& o) { o.min_padding_efficiency = 1.5; }));
  EXPECT_TRUE(invalid([](EngineOptions& o) { o.max_concurrent_requests = 0; }));
  EXPECT_TRUE(invalid([](EngineOptions& o) { o.max_queue_tokens = 100; }));
}

TEST(EngineOptionsTest, WarmupShapesSkipWhatCanNeverRun) {
  EngineOptions options;
  options.max_batch_tokens = 1024;
  options.max_batch_size = 4;
  options.warmup_seq_lens_tokens = {16, 512, 1024, 16};
  options.warmup_batch_sizes = {1, 4, 8};
  const std::vector<WarmupShape> shapes = WarmupShapes(ResolveEngineOptions(options, Spec()));
  // 1024 > max_input_tokens; 8 > max_batch_size; 4x512 > max_batch_tokens;
  // the repeated 16 runs once.
  EXPECT_EQ(shapes, (std::vector<WarmupShape>{{1, 16}, {4, 16}, {1, 512}}));
}

}  // namespace
}  // namespace securebert::batching
