// The limits a request must keep, and the one check of each, named in its
// message ("inputs: 40 texts, more than max_client_batch_size=32"). Every
// limit lives here; the engine checks only the structure the service
// guarantees (batching/request_validation.h).
//
// Who checks what, when: request_mapping checks what the request states
// (input count, top_k) before any work is queued; ModelPipeline checks what
// only the tokens tell (masks per input, candidates per request, the size of
// the answer) after tokenizing and before the engine computes anything.
//
// Plain data and pure functions; thread-safe.
#ifndef SECUREBERT_SERVER_SERVICE_REQUEST_LIMITS_H_
#define SECUREBERT_SERVER_SERVICE_REQUEST_LIMITS_H_

#include <cstdint>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace securebert::service {

struct RequestLimits {
  int32_t max_client_batch_size = 32;  // most inputs in one request
  int32_t max_top_k = 1000;            // largest PredictMask top_k
  int32_t default_top_k = 10;          // top_k used when the request says 0
  int32_t max_masks_per_input = 128;   // most <mask> tokens in one PredictMask input
  // Most candidates in one PredictMask answer: masks over all inputs x top_k.
  // Each one is a decoded token and a filled-in copy of its input.
  int64_t max_mask_predictions = 20000;
  // Largest answer the server builds, estimated before compute; the server
  // sets it to --max_message_bytes, past which gRPC could not send it anyway.
  int64_t max_response_bytes = int64_t{64} << 20;
  // TRUNCATION_WINDOW: tokens neighbouring windows share (at most half a
  // window is used), and the most windows one input may take.
  int32_t window_overlap_tokens = 128;
  int32_t max_windows_per_input = 64;
};

// INVALID_ARGUMENT unless `count` inputs is 1..max_client_batch_size.
absl::Status CheckInputCount(int64_t count, const RequestLimits& limits);

// The top_k a PredictMask request asking for `requested` runs with (0 means
// default_top_k); INVALID_ARGUMENT outside 1..max_top_k.
absl::StatusOr<int32_t> ResolveTopK(uint32_t requested, const RequestLimits& limits);

// After tokenizing a PredictMask request: every input has 1 to
// max_masks_per_input masks (`mask_positions`, one list per input; `truncated`
// says which inputs lost tokens, for the message) and masks x `top_k` is at
// most max_mask_predictions. INVALID_ARGUMENT naming the input or the limit.
absl::Status CheckMasks(const std::vector<std::vector<int32_t>>& mask_positions,
                        const std::vector<bool>& truncated, int32_t top_k,
                        absl::string_view mask_token, const RequestLimits& limits);

// INVALID_ARGUMENT when an answer estimated at `estimated_bytes` is larger
// than max_response_bytes; `advice` says how to ask for less.
absl::Status CheckResponseBytes(int64_t estimated_bytes, absl::string_view advice,
                                const RequestLimits& limits);

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_REQUEST_LIMITS_H_
