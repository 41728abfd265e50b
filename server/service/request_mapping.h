// Validates API requests, as parsed from the wire (securebert.wire.v1: the
// contract's messages with `bytes` texts, see proto/CMakeLists.txt), and
// maps them onto ModelRequests: the first stop of every request. Errors are
// INVALID_ARGUMENT statuses whose message names the field and the limit
// (request_limits.h). UTF-8 is checked later, by the tokenizer, per input.
//
// Stateless and thread-safe.
#ifndef SECUREBERT_SERVER_SERVICE_REQUEST_MAPPING_H_
#define SECUREBERT_SERVER_SERVICE_REQUEST_MAPPING_H_

#include "absl/status/statusor.h"
#include "securebert/wire/v1/securebert_wire.pb.h"
#include "service/model_request.h"
#include "service/request_limits.h"

namespace securebert::service {

absl::StatusOr<InputTruncation> MapTruncation(int truncation);

// Maps an Embed request (deadline and cancel flag left to the caller).
absl::StatusOr<ModelRequest> MapEmbedRequest(const wire::v1::EmbedRequest& request,
                                             const RequestLimits& limits);

// Maps a PredictMask request (deadline and cancel flag left to the caller).
absl::StatusOr<ModelRequest> MapPredictMaskRequest(const wire::v1::PredictMaskRequest& request,
                                                   const RequestLimits& limits);

// Maps a Classify request (deadline and cancel flag left to the caller).
absl::StatusOr<ModelRequest> MapClassifyRequest(const wire::v1::ClassifyRequest& request,
                                                const RequestLimits& limits);

// Maps an ExtractEntities request (deadline and cancel flag left to the
// caller): the aggregation must be known and the threshold in [0, 1].
absl::StatusOr<ModelRequest> MapExtractEntitiesRequest(
    const wire::v1::ExtractEntitiesRequest& request, const RequestLimits& limits);

}  // namespace securebert::service

#endif  // SECUREBERT_SERVER_SERVICE_REQUEST_MAPPING_H_
