#include "batching/testing/fake_model.h"

#include <algorithm>
#include <cmath>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "batching/batch_input.h"
#include "batching/postprocess.h"

namespace securebert::batching::testing {

void ForwardGate::Close() {
  absl::MutexLock lock(&mu_);
  open_ = false;
}

void ForwardGate::Open() {
  absl::MutexLock lock(&mu_);
  open_ = true;
}

void ForwardGate::Release(int64_t count) {
  absl::MutexLock lock(&mu_);
  permits_ += count;
}

void ForwardGate::AwaitEntered(int64_t count) {
  absl::MutexLock lock(&mu_);
  auto reached = [this, count]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return entered_ >= count; };
  mu_.Await(absl::Condition(&reached));
}

int64_t ForwardGate::entered() {
  absl::MutexLock lock(&mu_);
  return entered_;
}

void ForwardGate::Pass() {
  absl::MutexLock lock(&mu_);
  ++entered_;
  auto may_pass = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return open_ || permits_ > 0; };
  mu_.Await(absl::Condition(&may_pass));
  if (!open_) --permits_;
}

void BatchLog::Add(SeenBatch batch) {
  absl::MutexLock lock(&mu_);
  batches_.push_back(std::move(batch));
}

std::vector<SeenBatch> BatchLog::batches() {
  absl::MutexLock lock(&mu_);
  return batches_;
}

void BatchLog::EnterSlots(int32_t slots) {
  absl::MutexLock lock(&mu_);
  slots_in_use_ += slots;
  max_slots_in_use_ = std::max(max_slots_in_use_, slots_in_use_);
}

void BatchLog::LeaveSlots(int32_t slots) {
  absl::MutexLock lock(&mu_);
  slots_in_use_ -= slots;
}

int32_t BatchLog::max_slots_in_use() {
  absl::MutexLock lock(&mu_);
  return max_slots_in_use_;
}

FakeModel::FakeModel(const FakeModelOptions& options)
    : options_(options),
      spec_{"fake/securebert",
            options.hidden_size,
            2,
            options.vocab_size,
            options.max_input_tokens,
            1,
            "cpu",
            "float32",
            options.has_lm_head,
            options.task_head,
            options.num_labels} {}

std::vector<float> FakeModel::Logits(const std::vector<int32_t>& ids, RowOutput output,
                                     int32_t num_labels) {
  std::vector<float> values;
  const size_t tokens = output == RowOutput::kSequenceLogits ? 1 : ids.size();
  for (size_t t = 0; t < tokens; ++t) {
    for (int32_t l = 0; l < num_labels; ++l) {
      values.push_back(4.0f * Hidden(ids[t], static_cast<int32_t>(t), 500 + l));
    }
  }
  return values;
}

std::vector<float> FakeModel::Embedding(const std::vector<int32_t>& ids, RowOutput output,
                                        int32_t hidden_size) {
  std::vector<float> values;
  const auto length = static_cast<int32_t>(ids.size());
  if (output == RowOutput::kNothing) return values;
  if (output == RowOutput::kTokens) {
    for (int32_t t = 0; t < length; ++t) {
      for (int32_t h = 0; h < hidden_size; ++h) values.push_back(Hidden(ids[t], t, h));
    }
    return values;
  }
  const int32_t tokens = output == RowOutput::kCls ? 1 : length;
  for (int32_t h = 0; h < hidden_size; ++h) {
    double sum = 0.0;
    for (int32_t t = 0; t < tokens; ++t) sum += Hidden(ids[t], t, h);
    values.push_back(static_cast<float>(sum / tokens));
  }
  return values;
}

void FakeModel::BindToCurrentThread() { bound_thread_ = std::this_thread::get_id(); }

float FakeModel::Hidden(int32_t id, int32_t position, int32_t h) {
  return static_cast<float>((id * 131 + position * 31 + h * 7) % 1009) / 1009.0f - 0.5f;
}

std::pair<std::vector<int32_t>, std::vector<float>> FakeModel::TopK(const std::vector<int32_t>& ids,
                                                                    int32_t position, int32_t k,
                                                                    int32_t vocab_size) {
  const int32_t context = ids[position > 0 ? position - 1 : 0];
  const int64_t seed = int64_t{context} * 31 + position;
  std::vector<int32_t> top_ids(k);
  std::vector<float> scores(k);
  for (int32_t j = 0; j < k; ++j) {
    top_ids[j] = static_cast<int32_t>((seed + 7 * int64_t{j}) % vocab_size);
    scores[j] = std::ldexp(1.0f, -(j + 1));
  }
  return {std::move(top_ids), std::move(scores)};
}

absl::StatusOr<ModelOutput> FakeModel::Forward(const ModelInput& input) {
  // Recorded before the gate, so that a test that saw a forward enter the
  // gate also sees it in the log.
  Record(input);
  if (options_.log != nullptr) options_.log->EnterSlots(input.core_slots);
  absl::Cleanup leave = [&] {
    if (options_.log != nullptr) options_.log->LeaveSlots(input.core_slots);
  };
  if (options_.gate != nullptr) options_.gate->Pass();
  if (options_.oom_above_padded_tokens >= 0 &&
      int64_t{input.batch_size} * input.seq_len > options_.oom_above_padded_tokens) {
    return absl::ResourceExhaustedError("CUDA out of memory (injected)");
  }
  const int32_t width = spec_.hidden_size;
  ModelOutput output;
  output.embeddings.resize(input.batch_size);
  std::vector<std::vector<int32_t>> rows(input.batch_size);
  for (int32_t b = 0; b < input.batch_size; ++b) {
    for (int32_t t = 0; t < input.seq_len; ++t) {
      const size_t cell = static_cast<size_t>(b) * input.seq_len + t;
      const auto id = static_cast<int32_t>(input.input_ids[cell]);
      if (id == options_.poison_id) {
        return absl::InternalError(absl::StrCat("poison id ", id));
      }
      if (input.attention_mask[cell] != 0) rows[b].push_back(id);
    }
    const RowOutput wanted = input.row_outputs[b];
    output.embeddings[b] = wanted == RowOutput::kSequenceLogits || wanted == RowOutput::kTokenLogits
                               ? Logits(rows[b], wanted, spec_.num_labels)
                               : Embedding(rows[b], wanted, width);
  }
  for (const LmRow& lm : input.lm_rows) {
    auto [ids, scores] = TopK(rows[lm.row], lm.position, input.top_k, spec_.vocab_size);
    output.topk_ids.insert(output.topk_ids.end(), ids.begin(), ids.end());
    output.topk_scores.insert(output.topk_scores.end(), scores.begin(), scores.end());
  }
  return output;
}

void FakeModel::Record(const ModelInput& input) {
  if (options_.log == nullptr) return;
  SeenBatch seen;
  seen.instance = options_.instance;
  seen.rows = input.batch_size;
  seen.seq_len = input.seq_len;
  for (int32_t b = 0; b < input.batch_size; ++b) {
    const size_t offset = static_cast<size_t>(b) * input.seq_len;
    int32_t length = 0;
    for (int32_t t = 0; t < input.seq_len; ++t) {
      length += input.attention_mask[offset + t] != 0 ? 1 : 0;
    }
    seen.lengths.push_back(length);
    seen.tags.push_back(
        static_cast<int32_t>(input.input_ids[offset + (input.seq_len > 1 ? 1 : 0)]));
  }
  seen.row_outputs = input.row_outputs;
  seen.lm_rows = static_cast<int32_t>(input.lm_rows.size());
  seen.top_k = input.top_k;
  seen.on_bound_thread = bound_thread_ == std::this_thread::get_id();
  seen.core_slots = input.core_slots;
  options_.log->Add(std::move(seen));
}

SequenceOutput FakeModel::Expected(const Request& request, size_t index, int32_t hidden_size,
                                   int32_t vocab_size, int32_t num_labels) {
  const std::vector<int32_t>& ids = request.sequences[index];
  const auto length = static_cast<int32_t>(ids.size());
  SequenceOutput out;
  out.num_tokens = static_cast<uint32_t>(length);
  if (request.kind == Request::Kind::kClassify) {
    out.values = Logits(ids, RowOutput::kSequenceLogits, num_labels);
    out.shape = {num_labels};
    return out;
  }
  if (request.kind == Request::Kind::kExtractEntities) {
    out.values = Logits(ids, RowOutput::kTokenLogits, num_labels);
    out.shape = {length, num_labels};
    return out;
  }
  if (request.kind == Request::Kind::kPredictMask) {
    const int32_t k = std::min(request.top_k, vocab_size);
    for (int32_t position : request.mask_positions[index]) {
      auto [top_ids, scores] = TopK(ids, position, k, vocab_size);
      out.masks.push_back({position, std::move(top_ids), std::move(scores)});
    }
    return out;
  }
  out.values = Embedding(ids, EmbeddingOutput(request.pooling), hidden_size);
  if (request.pooling == Pooling::kNone) {
    out.shape = {length, hidden_size};
    return out;
  }
  out.shape = {hidden_size};
  if (request.normalize) L2Normalize(&out.values);
  return out;
}

}  // namespace securebert::batching::testing
