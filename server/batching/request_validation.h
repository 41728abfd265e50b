// The engine's own checks on a Request: its structure, which the service
// layer guarantees for every request it builds, so a failure here is a bug
// upstream, answered INVALID_ARGUMENT instead of computing garbage. User
// limits (inputs per request, top_k range, masks per input) are the service
// layer's (service/request_limits.h) and are checked there, once.
//
// Shared by Engine::Submit (refuse at once) and the queue (drop before
// compute). Pure functions; safe from any thread.
#ifndef SECUREBERT_SERVER_BATCHING_REQUEST_VALIDATION_H_
#define SECUREBERT_SERVER_BATCHING_REQUEST_VALIDATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "batching/model.h"
#include "batching/request.h"

namespace securebert::batching {

// INVALID_ARGUMENT naming the input and the value when `request` is
// malformed for a model described by `spec` with inputs of at most
// `max_input_tokens`: no inputs, an empty input, one over max_input_tokens,
// a token id outside the vocabulary, PredictMask positions not strictly
// ascending inside their input or a list per input missing, top_k < 1.
absl::Status ValidateRequest(const Request& request, const ModelSpec& spec,
                             int32_t max_input_tokens);

// OK while `request` should still run at `now`: DEADLINE_EXCEEDED once `now`
// reaches its deadline (checked first: gRPC cancels expired calls too),
// CANCELLED once its cancel flag is set.
absl::Status RequestLiveness(const Request& request, absl::Time now);

// Tokens of all of `request`'s inputs.
int64_t CountTokens(const Request& request);

}  // namespace securebert::batching

#endif  // SECUREBERT_SERVER_BATCHING_REQUEST_VALIDATION_H_
