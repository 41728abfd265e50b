// TRUNCATION_WINDOW at the request level: a tokenized request's long inputs
// become one engine sequence per window (so windows of one document batch
// with other requests' work), and the engine's per-window answers are merged
// back into one answer per input by the rule of service/windows.h.
//
// Called by ModelPipeline on CpuPool threads: after a request's limits are
// checked on its whole inputs, and when the engine has answered. Pure
// functions over their arguments; thread-safe.
#ifndef SECUREBERT_SERVER_SERVICE_WINDOWED_REQUESTS_H_
#define SECUREBERT_SERVER_SERVICE_WINDOWED_REQUESTS_H_

#include "absl/status/status.h"
#include "batching/request.h"
#include "service/model_request.h"
#include "service/windows.h"

namespace securebert::service {

// Sets result->window_counts for `request`'s inputs (whole documents, <s> and
// </s> included). When one of them needs more than one window, rewrites
// `request` to run every input as windows (InputWindows in result->windows,
// the documents moved to result->documents): its sequences become the
// windows, PredictMask masks go to the window each is answered from, and an
// Embed asks the engine for what merging needs (every token's vector for
// POOLING_NONE and POOLING_MEAN, <s> vectors for POOLING_CLS; normalized
// after merging). Otherwise `request` runs as it is: an input that fits is
// answered exactly as with TRUNCATION_NONE.
void ExpandWindows(const WindowShape& shape, batching::Request* request, ModelResult* result);

// After the engine answered a request ExpandWindows rewrote: one output per
// input, merged from its windows' (result->response.outputs), and
// result->response.sequences the whole documents again. INTERNAL if the
// outputs do not have the windows' shapes (a bug).
absl::Status MergeWindows(batching::Request::Kind kind, ModelResult* result);

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_WINDOWED_REQUESTS_H_
