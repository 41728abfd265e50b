#include "service/windowed_requests.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "batching/postprocess.h"

namespace securebert::service {
namespace {

using batching::Request;
using batching::SequenceOutput;

// The rows [tokens, width] of a whole document merged from its windows'
// per-token outputs (each [window tokens + 2, width]): <s> from the first
// window, </s> from the last, content token p from its source window.
absl::StatusOr<std::vector<float>> MergeTokenRows(const InputWindows& input,
                                                  const std::vector<SequenceOutput>& outputs,
                                                  int32_t content_tokens) {
  const size_t count = input.windows.size();
  const SequenceOutput& first = outputs[static_cast<size_t>(input.first)];
  const size_t rows0 = static_cast<size_t>(input.windows[0].length) + 2;
  if (first.values.empty() || first.values.size() % rows0 != 0) {
    return absl::InternalError("windowed output has no rows");
  }
  const size_t width = first.values.size() / rows0;
  for (size_t k = 0; k < count; ++k) {
    const SequenceOutput& o = outputs[static_cast<size_t>(input.first) + k];
    if (o.values.size() != (static_cast<size_t>(input.windows[k].length) + 2) * width) {
      return absl::InternalError(absl::StrCat("window ", k, " returned ", o.values.size(),
                                              " values; expected ",
                                              (input.windows[k].length + 2) * width));
    }
  }
  auto row = [&](size_t window, size_t index) {
    return outputs[static_cast<size_t>(input.first) + window].values.begin() +
           static_cast<std::ptrdiff_t>(index * width);
  };
  std::vector<float> merged;
  merged.reserve((static_cast<size_t>(content_tokens) + 2) * width);
  merged.insert(merged.end(), row(0, 0), row(0, 1));
  for (const TokenSource& s : ChooseSources(input.windows, content_tokens)) {
    merged.insert(merged.end(), row(s.window, s.index), row(s.window, s.index + 1));
  }
  const size_t last = count - 1;
  const size_t last_row = static_cast<size_t>(input.windows[last].length) + 1;
  merged.insert(merged.end(), row(last, last_row), row(last, last_row + 1));
  return merged;
}

// The mean of the windows' vectors (CLS vectors, sequence logits).
std::vector<float> MeanOfWindows(const InputWindows& input,
                                 const std::vector<SequenceOutput>& outputs) {
  const size_t count = input.windows.size();
  std::vector<double> sums(outputs[static_cast<size_t>(input.first)].values.size(), 0.0);
  for (size_t k = 0; k < count; ++k) {
    const std::vector<float>& v = outputs[static_cast<size_t>(input.first) + k].values;
    for (size_t j = 0; j < sums.size() && j < v.size(); ++j) sums[j] += v[j];
  }
  std::vector<float> mean(sums.size());
  for (size_t j = 0; j < sums.size(); ++j) mean[j] = static_cast<float>(sums[j] / count);
  return mean;
}

// The mean over the rows of row-major [rows, width] `values`.
std::vector<float> MeanOfRows(const std::vector<float>& values, size_t rows) {
  const size_t width = rows == 0 ? 0 : values.size() / rows;
  std::vector<double> sums(width, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t j = 0; j < width; ++j) sums[j] += values[r * width + j];
  }
  std::vector<float> mean(width);
  for (size_t j = 0; j < width; ++j) mean[j] = static_cast<float>(sums[j] / rows);
  return mean;
}

}  // namespace

void ExpandWindows(const WindowShape& shape, Request* request, ModelResult* result) {
  result->window_counts.clear();
  bool any_long = false;
  for (const std::vector<int32_t>& ids : request->sequences) {
    const auto content = static_cast<int32_t>(ids.size()) - 2;
    const int32_t count = CountWindows(content, shape);
    result->window_counts.push_back(static_cast<uint32_t>(count));
    any_long = any_long || count > 1;
  }
  if (!any_long) return;

  std::vector<std::vector<int32_t>> documents = std::move(request->sequences);
  std::vector<std::vector<int32_t>> doc_masks = std::move(request->mask_positions);
  request->sequences.clear();
  request->mask_positions.clear();
  const bool masks = request->kind == Request::Kind::kPredictMask;
  for (size_t i = 0; i < documents.size(); ++i) {
    const std::vector<int32_t>& ids = documents[i];
    const auto content = static_cast<int32_t>(ids.size()) - 2;
    InputWindows input{static_cast<int32_t>(request->sequences.size()),
                       PlanWindows(content, shape)};
    for (const Window& w : input.windows) {
      std::vector<int32_t>& sequence = request->sequences.emplace_back();
      sequence.reserve(static_cast<size_t>(w.length) + 2);
      sequence.push_back(ids.front());
      sequence.insert(sequence.end(), ids.begin() + 1 + w.start,
                      ids.begin() + 1 + w.start + w.length);
      sequence.push_back(ids.back());
      if (masks) request->mask_positions.emplace_back();
    }
    if (masks) {
      const std::vector<TokenSource> sources = ChooseSources(input.windows, content);
      for (int32_t position : doc_masks[i]) {
        // Document position q is content token q - 1.
        const TokenSource& s = sources[static_cast<size_t>(position - 1)];
        request->mask_positions[static_cast<size_t>(input.first + s.window)].push_back(s.index);
      }
    }
    result->windows.push_back(std::move(input));
  }
  result->documents = std::move(documents);
  if (request->kind == Request::Kind::kEmbed) {
    result->pooling = request->pooling;
    result->normalize = request->normalize;
    request->pooling = request->pooling == batching::Pooling::kCls ? batching::Pooling::kCls
                                                                   : batching::Pooling::kNone;
    request->normalize = false;
  }
}

absl::Status MergeWindows(Request::Kind kind, ModelResult* result) {
  if (result->windows.empty()) return absl::OkStatus();
  std::vector<SequenceOutput>& outputs = result->response.outputs;
  std::vector<SequenceOutput> merged;
  merged.reserve(result->windows.size());
  for (size_t i = 0; i < result->windows.size(); ++i) {
    const InputWindows& input = result->windows[i];
    const auto tokens = static_cast<int32_t>(result->documents[i].size());
    const int32_t content = tokens - 2;
    SequenceOutput out;
    out.num_tokens = static_cast<uint32_t>(tokens);
    const bool cls = kind == Request::Kind::kEmbed && result->pooling == batching::Pooling::kCls;
    if (kind == Request::Kind::kClassify || cls) {
      out.values = MeanOfWindows(input, outputs);
      out.shape = {static_cast<int64_t>(out.values.size())};
    } else if (kind == Request::Kind::kPredictMask) {
      for (size_t k = 0; k < input.windows.size(); ++k) {
        for (SequenceOutput::Mask& m : outputs[static_cast<size_t>(input.first) + k].masks) {
          m.position += input.windows[k].start;  // window index -> document position
          out.masks.push_back(std::move(m));
        }
      }
      std::sort(out.masks.begin(), out.masks.end(),
                [](const auto& a, const auto& b) { return a.position < b.position; });
    } else {
      absl::StatusOr<std::vector<float>> rows = MergeTokenRows(input, outputs, content);
      if (!rows.ok()) return rows.status();
      const auto width = static_cast<int64_t>(rows->size() / static_cast<size_t>(tokens));
      if (kind == Request::Kind::kEmbed && result->pooling == batching::Pooling::kMean) {
        out.values = MeanOfRows(*rows, static_cast<size_t>(tokens));
        out.shape = {width};
      } else {
        out.values = *std::move(rows);
        out.shape = {tokens, width};
      }
    }
    if (kind == Request::Kind::kEmbed && result->normalize &&
        result->pooling != batching::Pooling::kNone) {
      batching::L2Normalize(&out.values);
    }
    merged.push_back(std::move(out));
  }
  outputs = std::move(merged);
  result->response.sequences = std::move(result->documents);
  result->documents.clear();
  result->windows.clear();
  return absl::OkStatus();
}

}  // namespace securebert::service
