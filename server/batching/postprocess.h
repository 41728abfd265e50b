// From a batch's model output to each request's answer: the rows' pooled (or
// per-token) vectors handed over, L2 normalization, and top-k trimmed per
// request. Pooling itself runs inside the model (ModelInput::row_outputs).
//
// Called by BatchWorker on its own thread after a successful forward. Pure
// functions over their arguments.
#ifndef SECUREBERT_SERVER_BATCHING_POSTPROCESS_H_
#define SECUREBERT_SERVER_BATCHING_POSTPROCESS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "batching/batch_input.h"
#include "batching/model.h"
#include "batching/request.h"

namespace securebert::batching {

// INTERNAL naming the mismatch unless `output` has the sizes `input` asked
// for (a Model bug must fail its batch, not read out of bounds). `num_labels`
// is the task head's (ModelSpec::num_labels).
absl::Status CheckModelOutput(const ModelInput& input, const ModelOutput& output,
                              int32_t hidden_size, int32_t num_labels = 0);

// The answer for sequence `index` of `request`, which ran as `row` of a batch
// built as `batch_input` and produced `output` (already checked). Moves the
// row's vectors out of `output`.
SequenceOutput MakeSequenceOutput(const Request& request, int32_t index,
                                  const BatchInput& batch_input, int32_t row, ModelOutput* output,
                                  int32_t hidden_size);

// Scales `values` to unit L2 norm; leaves an all-zero vector as it is.
void L2Normalize(std::vector<float>* values);

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_POSTPROCESS_H_
