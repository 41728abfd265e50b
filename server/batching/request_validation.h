// Checks on a Request before the engine accepts it, shared by Engine::Submit
// (refuse at once) and the queue (drop before compute).
//
// Pure functions; safe from any thread.
#ifndef SECUREBERT_SERVER_BATCHING_REQUEST_VALIDATION_H_
#define SECUREBERT_SERVER_BATCHING_REQUEST_VALIDATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "batching/model.h"
#include "batching/request.h"

namespace securebert::batching {

// Most candidates a PredictMask request may ask for per mask.
inline constexpr int32_t kMaxTopK = 1000;

// INVALID_ARGUMENT naming the input, the value and the limit when `request`
// is malformed for a model described by `spec`: no inputs, an empty input,
// one over max_input_tokens, a token id outside the vocabulary, a
// PredictMask input without masks or with positions not strictly ascending
// inside it, top_k outside 1..kMaxTopK.
absl::Status ValidateRequest(const Request& request, const ModelSpec& spec);

// OK while `request` should still run at `now`: CANCELLED once its cancel
// flag is set, DEADLINE_EXCEEDED once `now` reaches its deadline.
absl::Status RequestLiveness(const Request& request, absl::Time now);

// Tokens of all of `request`'s inputs.
int64_t CountTokens(const Request& request);

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_REQUEST_VALIDATION_H_
