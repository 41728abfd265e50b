// Validates API requests and maps them onto internal calls: the first stop of
// every request. Errors are INVALID_ARGUMENT statuses whose message names the
// field and the limit ("inputs: 40 texts, more than max_client_batch_size=32").
//
// Stateless and thread-safe.
#ifndef SECUREBERT_SERVER_SERVICE_REQUEST_MAPPING_H_
#define SECUREBERT_SERVER_SERVICE_REQUEST_MAPPING_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "securebert/v1/securebert.pb.h"
#include "service/model_pipeline.h"

namespace securebert::service {

// Request limits the handlers enforce before any work is queued.
struct RequestLimits {
  int32_t max_client_batch_size = 32;  // most inputs in one request
  int32_t max_top_k = 1000;            // largest PredictMask top_k
  int32_t default_top_k = 10;          // top_k used when the request says 0
};

absl::StatusOr<tokenizer::Truncation> MapTruncation(v1::Truncation truncation);

// Checks `inputs` is 1..max_client_batch_size texts.
absl::Status ValidateInputCount(int count, const RequestLimits& limits);

// Maps an Embed request (deadline and cancel flag left to the caller).
absl::StatusOr<ModelCall> MapEmbedRequest(const v1::EmbedRequest& request,
                                          const RequestLimits& limits);

// Maps a PredictMask request (deadline and cancel flag left to the caller).
absl::StatusOr<ModelCall> MapPredictMaskRequest(const v1::PredictMaskRequest& request,
                                                const RequestLimits& limits);

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_REQUEST_MAPPING_H_
