#include "batching/batch_input.h"

#include <algorithm>

namespace securebert::batching {
namespace {

// Warm-up asks for this many candidates, the service's default top_k.
constexpr int32_t kWarmupTopK = 10;

}  // namespace

RowOutput EmbeddingOutput(Pooling pooling) {
  switch (pooling) {
    case Pooling::kCls:
      return RowOutput::kCls;
    case Pooling::kMean:
      return RowOutput::kMean;
    case Pooling::kNone:
      break;
  }
  return RowOutput::kTokens;
}

BatchInput BuildBatchInput(const Batch& batch, const ModelSpec& spec) {
  BatchInput out;
  ModelInput& input = out.model_input;
  input.batch_size = static_cast<int32_t>(batch.entries.size());
  for (const QueueEntry& entry : batch.entries) {
    input.seq_len = std::max(input.seq_len, entry.num_tokens);
  }
  const size_t cells = static_cast<size_t>(input.batch_size) * input.seq_len;
  input.input_ids.assign(cells, spec.pad_id);
  input.attention_mask.assign(cells, 0);
  out.first_lm_row.assign(input.batch_size, -1);
  input.row_outputs.assign(input.batch_size, RowOutput::kNothing);
  for (int32_t row = 0; row < input.batch_size; ++row) {
    const QueueEntry& entry = batch.entries[row];
    const Request& request = entry.request->request();
    const std::vector<int32_t>& ids = request.sequences[entry.index];
    const size_t offset = static_cast<size_t>(row) * input.seq_len;
    std::copy(ids.begin(), ids.end(), input.input_ids.begin() + offset);
    std::fill_n(input.attention_mask.begin() + offset, ids.size(), 1);
    out.real_tokens += static_cast<int64_t>(ids.size());
    switch (request.kind) {
      case Request::Kind::kEmbed:
        input.row_outputs[row] = EmbeddingOutput(request.pooling);
        continue;
      case Request::Kind::kClassify:
        input.row_outputs[row] = RowOutput::kSequenceLogits;
        continue;
      case Request::Kind::kExtractEntities:
        input.row_outputs[row] = RowOutput::kTokenLogits;
        continue;
      case Request::Kind::kPredictMask:
        break;
    }
    out.first_lm_row[row] = static_cast<int32_t>(input.lm_rows.size());
    for (int32_t position : request.mask_positions[entry.index]) {
      input.lm_rows.push_back(LmRow{row, position});
    }
    input.top_k = std::max(input.top_k, request.top_k);
  }
  input.top_k = std::min(input.top_k, spec.vocab_size);
  return out;
}

ModelInput BuildWarmupInput(const WarmupShape& shape, const ModelSpec& spec) {
  ModelInput input;
  input.batch_size = shape.rows;
  input.seq_len = shape.seq_len;
  const size_t cells = static_cast<size_t>(shape.rows) * shape.seq_len;
  // The ids do not matter for shape warm-up; any in-vocabulary id will do.
  input.input_ids.assign(cells, spec.vocab_size > 4 ? 4 : 0);
  input.attention_mask.assign(cells, 1);
  // Every kind of output the model has in turn, so each path has run once at
  // each shape.
  std::vector<RowOutput> outputs = {RowOutput::kTokens, RowOutput::kMean, RowOutput::kCls};
  if (spec.task_head == TaskHead::kSequenceClassification) {
    outputs.push_back(RowOutput::kSequenceLogits);
  } else if (spec.task_head == TaskHead::kTokenClassification) {
    outputs.push_back(RowOutput::kTokenLogits);
  }
  for (int32_t row = 0; row < shape.rows; ++row) {
    input.row_outputs.push_back(outputs[row % outputs.size()]);
    if (spec.has_lm_head) input.lm_rows.push_back(LmRow{row, shape.seq_len / 2});
  }
  input.top_k = spec.has_lm_head ? std::min(kWarmupTopK, spec.vocab_size) : 0;
  return input;
}

}  // namespace securebert::batching
