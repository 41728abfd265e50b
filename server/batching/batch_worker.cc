#include "batching/batch_worker.h"

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "batching/postprocess.h"

namespace securebert::batching {

BatchWorker::BatchWorker(int32_t instance, std::unique_ptr<Model> model,
                         std::vector<WarmupShape> warmup, const Deps& deps)
    : instance_(instance),
      model_(std::move(model)),
      spec_(model_->spec()),
      warmup_(std::move(warmup)),
      deps_(deps),
      thread_([this] { Run(); }) {}

BatchWorker::~BatchWorker() { thread_.join(); }

absl::Status BatchWorker::AwaitWarmup() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&warmed_up_));
  return warmup_status_;
}

void BatchWorker::Run() {
  model_->BindToCurrentThread();
  const absl::Status warm = RunWarmup();
  {
    absl::MutexLock lock(&mu_);
    warmup_status_ = warm;
    warmed_up_ = true;
  }
  Batch batch;
  while (deps_.queue->NextBatch(&batch)) {
    // Borrow idle instances' cores only when no other work waits for them.
    const int32_t slots = deps_.cores->Acquire(batch.left_waiting == 0);
    std::vector<std::pair<Batch, Ran>> runs;
    RunSplittingOnOom(std::move(batch), slots, &runs);
    deps_.cores->Release(slots);
    for (auto& [part, ran] : runs) Finish(part, std::move(ran));
  }
}

void BatchWorker::RunSplittingOnOom(Batch batch, int32_t core_slots,
                                    std::vector<std::pair<Batch, Ran>>* runs) {
  Ran ran = RunForward(batch, core_slots);
  const bool oom = ran.output.status().code() == absl::StatusCode::kResourceExhausted;
  if (!oom || batch.entries.size() < 2) {
    runs->emplace_back(std::move(batch), std::move(ran));
    return;
  }
  // Out of device memory: the failed forward is reported, and each half of
  // the batch (rows are longest first) is tried on its own, down to one row.
  Report(ran.stats);
  const auto middle = batch.entries.begin() + static_cast<std::ptrdiff_t>(batch.entries.size() / 2);
  Batch first{{batch.entries.begin(), middle}, batch.started, batch.left_waiting};
  Batch second{{middle, batch.entries.end()}, batch.started, batch.left_waiting};
  RunSplittingOnOom(std::move(first), core_slots, runs);
  RunSplittingOnOom(std::move(second), core_slots, runs);
}

absl::Status BatchWorker::RunWarmup() {
  for (const WarmupShape& shape : warmup_) {
    const ModelInput input = BuildWarmupInput(shape, spec_);
    absl::StatusOr<ModelOutput> output = SafeForward(input);
    absl::Status status =
        output.ok() ? CheckModelOutput(input, *output, spec_.hidden_size, spec_.num_labels)
                    : output.status();
    if (!status.ok()) {
      return absl::InternalError(absl::StrCat("warm-up of instance ", instance_, " at ", shape.rows,
                                              "x", shape.seq_len, " failed: ", status.message()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelOutput> BatchWorker::SafeForward(const ModelInput& input) {
  try {
    return model_->Forward(input);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("model threw out of Forward: ", e.what()));
  }
}

BatchWorker::Ran BatchWorker::RunForward(const Batch& batch, int32_t core_slots) {
  const absl::Time begin = deps_.clock->Now();
  Ran ran{BuildBatchInput(batch, spec_), absl::UnknownError("not run"), BatchStats{}};
  const ModelInput& input = ran.input.model_input;
  ran.input.model_input.core_slots = core_slots;
  ran.output = SafeForward(input);
  if (ran.output.ok()) {
    if (absl::Status s = CheckModelOutput(input, *ran.output, spec_.hidden_size, spec_.num_labels);
        !s.ok()) {
      ran.output = s;
    }
  }
  BatchStats& stats = ran.stats;
  stats.instance = instance_;
  stats.batch_size = input.batch_size;
  stats.seq_len = input.seq_len;
  stats.real_tokens = ran.input.real_tokens;
  stats.padded_tokens = int64_t{input.batch_size} * input.seq_len;
  stats.lm_rows = static_cast<int32_t>(input.lm_rows.size());
  stats.core_slots = core_slots;
  for (const QueueEntry& entry : batch.entries) {
    stats.max_queue_us =
        std::max(stats.max_queue_us, absl::ToInt64Microseconds(batch.started - entry.enqueued));
  }
  stats.compute_us = absl::ToInt64Microseconds(deps_.clock->Now() - begin);
  stats.code = ran.output.status().code() == absl::StatusCode::kResourceExhausted
                   ? absl::StatusCode::kResourceExhausted
               : ran.output.ok() ? absl::StatusCode::kOk
                                 : absl::StatusCode::kInternal;
  return ran;
}

void BatchWorker::Finish(const Batch& batch, Ran ran) {
  // Reported before answering, so that once the engine is idle the observer
  // has seen every batch.
  Report(ran.stats);
  if (!ran.output.ok()) {
    if (ran.stats.code == absl::StatusCode::kResourceExhausted) {
      // Even this one row does not fit the device's memory.
      FailAll(batch, absl::ResourceExhaustedError(absl::StrCat(
                         "out of memory on instance ", instance_, " for an input of ",
                         ran.stats.seq_len, " tokens: ", ran.output.status().message())));
      return;
    }
    FailAll(batch, absl::InternalError(absl::StrCat("model forward failed on instance ", instance_,
                                                    ": ", ran.output.status().message())));
    return;
  }
  Deliver(batch, ran.input, &*ran.output,
          BatchRun{batch.started, ran.stats.compute_us, ran.stats.batch_size});
}

void BatchWorker::Deliver(const Batch& batch, const BatchInput& input, ModelOutput* output,
                          const BatchRun& run) {
  // Rows grouped by request, in batch order, so each request accounts this
  // batch once and is answered at most once per batch.
  using Outputs = std::vector<std::pair<int32_t, SequenceOutput>>;
  std::vector<std::pair<PendingRequest*, Outputs>> groups;
  absl::flat_hash_map<PendingRequest*, size_t> group_of;
  for (size_t row = 0; row < batch.entries.size(); ++row) {
    const QueueEntry& entry = batch.entries[row];
    PendingRequest* request = entry.request.get();
    if (request->answered()) continue;  // e.g. a sibling's batch failed
    auto [it, inserted] = group_of.try_emplace(request, groups.size());
    if (inserted) groups.emplace_back(request, Outputs{});
    groups[it->second].second.emplace_back(
        entry.index, MakeSequenceOutput(request->request(), entry.index, input,
                                        static_cast<int32_t>(row), output, spec_.hidden_size));
  }
  for (auto& [request, outputs] : groups) {
    request->Deliver(std::move(outputs), run);
  }
}

void BatchWorker::FailAll(const Batch& batch, const absl::Status& status) {
  for (const QueueEntry& entry : batch.entries) entry.request->Fail(status);
}

void BatchWorker::Report(const BatchStats& stats) const {
  if (deps_.observer != nullptr) deps_.observer->OnBatch(stats);
}

}  // namespace securebert::batching
