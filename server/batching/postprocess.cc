#include "batching/postprocess.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace securebert::batching {
namespace {

// Embed answer from one row's hidden states, `hidden_row` [seq_len, hidden].
void FillEmbedding(const Request& request, const float* hidden_row, int32_t num_tokens,
                   int32_t hidden_size, SequenceOutput* out) {
  const size_t width = static_cast<size_t>(hidden_size);
  switch (request.pooling) {
    case Pooling::kNone:
      out->values.assign(hidden_row, hidden_row + num_tokens * width);
      out->shape = {num_tokens, hidden_size};
      return;
    case Pooling::kCls:
      out->values.assign(hidden_row, hidden_row + width);
      break;
    case Pooling::kMean: {
      // Accumulated in double so the mean does not drift with length.
      std::vector<double> sum(width, 0.0);
      for (int32_t t = 0; t < num_tokens; ++t) {
        const float* token = hidden_row + t * width;
        for (size_t h = 0; h < width; ++h) sum[h] += token[h];
      }
      out->values.resize(width);
      for (size_t h = 0; h < width; ++h) {
        out->values[h] = static_cast<float>(sum[h] / num_tokens);
      }
      break;
    }
  }
  out->shape = {hidden_size};
  if (request.normalize) L2Normalize(&out->values);
}

}  // namespace

absl::Status CheckModelOutput(const ModelInput& input, const ModelOutput& output,
                              int32_t hidden_size) {
  const size_t hidden_cells =
      input.want_hidden ? static_cast<size_t>(input.batch_size) * input.seq_len * hidden_size : 0;
  if (output.hidden.size() != hidden_cells) {
    return absl::InternalError(absl::StrCat("model returned ", output.hidden.size(),
                                            " hidden values; expected ", hidden_cells));
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
                                  const BatchInput& batch_input, int32_t row,
                                  const ModelOutput& output, int32_t hidden_size) {
  const ModelInput& input = batch_input.model_input;
  SequenceOutput out;
  const auto num_tokens = static_cast<int32_t>(request.sequences[index].size());
  out.num_tokens = static_cast<uint32_t>(num_tokens);
  if (request.kind == Request::Kind::kEmbed) {
    const float* hidden_row =
        output.hidden.data() + static_cast<size_t>(row) * input.seq_len * hidden_size;
    FillEmbedding(request, hidden_row, num_tokens, hidden_size, &out);
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
    mask.ids.assign(output.topk_ids.begin() + base, output.topk_ids.begin() + base + keep);
    mask.scores.assign(output.topk_scores.begin() + base, output.topk_scores.begin() + base + keep);
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
