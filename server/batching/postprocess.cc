#include "batching/postprocess.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace securebert::batching {
namespace {

// Values a row's embedding holds for `output` with `num_tokens` real tokens.
size_t EmbeddingSize(RowOutput output, int64_t num_tokens, int32_t hidden_size,
                     int32_t num_labels) {
  switch (output) {
    case RowOutput::kNothing:
      return 0;
    case RowOutput::kTokens:
      return static_cast<size_t>(num_tokens) * hidden_size;
    case RowOutput::kSequenceLogits:
      return static_cast<size_t>(num_labels);
    case RowOutput::kTokenLogits:
      return static_cast<size_t>(num_tokens) * num_labels;
    case RowOutput::kCls:
    case RowOutput::kMean:
      break;
  }
  return static_cast<size_t>(hidden_size);
}

int64_t RealTokens(const ModelInput& input, int32_t row) {
  const auto begin = input.attention_mask.begin() + static_cast<size_t>(row) * input.seq_len;
  return std::count_if(begin, begin + input.seq_len, [](int64_t m) { return m != 0; });
}

}  // namespace

absl::Status CheckModelOutput(const ModelInput& input, const ModelOutput& output,
                              int32_t hidden_size, int32_t num_labels) {
  if (output.embeddings.size() != static_cast<size_t>(input.batch_size)) {
    return absl::InternalError(absl::StrCat("model returned embeddings for ",
                                            output.embeddings.size(), " rows; expected ",
                                            input.batch_size));
  }
  for (int32_t row = 0; row < input.batch_size; ++row) {
    const size_t expected =
        EmbeddingSize(input.row_outputs[row], RealTokens(input, row), hidden_size, num_labels);
    if (output.embeddings[row].size() != expected) {
      return absl::InternalError(absl::StrCat("model returned ", output.embeddings[row].size(),
                                              " values for row ", row, "; expected ", expected));
    }
  }
  const size_t topk_cells = input.lm_rows.size() * input.top_k;
  if (output.topk_ids.size() != topk_cells || output.topk_scores.size() != topk_cells) {
    return absl::InternalError(absl::StrCat("model returned ", output.topk_ids.size(),
                                            " top-k ids and ", output.topk_scores.size(),
                                            " scores; expected ", topk_cells));
  }
  return absl::OkStatus();
}

SequenceOutput MakeSequenceOutput(const Request& request, int32_t index,
                                  const BatchInput& batch_input, int32_t row, ModelOutput* output,
                                  int32_t hidden_size) {
  const ModelInput& input = batch_input.model_input;
  SequenceOutput out;
  const auto num_tokens = static_cast<int32_t>(request.sequences[index].size());
  out.num_tokens = static_cast<uint32_t>(num_tokens);
  if (request.kind == Request::Kind::kEmbed) {
    out.values = std::move(output->embeddings[row]);
    if (request.pooling == Pooling::kNone) {
      out.shape = {num_tokens, hidden_size};
    } else {
      out.shape = {hidden_size};
      if (request.normalize) L2Normalize(&out.values);
    }
    return out;
  }
  if (request.kind == Request::Kind::kClassify || request.kind == Request::Kind::kExtractEntities) {
    out.values = std::move(output->embeddings[row]);
    const auto labels = static_cast<int64_t>(out.values.size());
    out.shape = request.kind == Request::Kind::kClassify
                    ? std::vector<int64_t>{labels}
                    : std::vector<int64_t>{num_tokens, labels / std::max(1, num_tokens)};
    return out;
  }
  // The batch ran top-k with the largest k any row asked for; keep this
  // request's best top_k of them (already sorted best first).
  const int32_t keep = std::min(request.top_k, input.top_k);
  const std::vector<int32_t>& positions = request.mask_positions[index];
  out.masks.reserve(positions.size());
  for (size_t m = 0; m < positions.size(); ++m) {
    const size_t base = static_cast<size_t>(batch_input.first_lm_row[row] + m) * input.top_k;
    SequenceOutput::Mask mask;
    mask.position = positions[m];
    mask.ids.assign(output->topk_ids.begin() + base, output->topk_ids.begin() + base + keep);
    mask.scores.assign(output->topk_scores.begin() + base,
                       output->topk_scores.begin() + base + keep);
    out.masks.push_back(std::move(mask));
  }
  return out;
}

void L2Normalize(std::vector<float>* values) {
  double squares = 0.0;
  for (float v : *values) squares += static_cast<double>(v) * v;
  if (squares == 0.0) return;
  const double scale = 1.0 / std::sqrt(squares);
  for (float& v : *values) v = static_cast<float>(v * scale);
}

}  // namespace securebert::batching
