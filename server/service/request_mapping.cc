#include "service/request_mapping.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace securebert::service {
namespace {

std::shared_ptr<const std::vector<std::string>> CopyTexts(
    const google::protobuf::RepeatedPtrField<std::string>& inputs) {
  return std::make_shared<const std::vector<std::string>>(inputs.begin(), inputs.end());
}

absl::StatusOr<batching::Pooling> MapPooling(int pooling) {
  switch (pooling) {
    case wire::v1::POOLING_NONE:
      return batching::Pooling::kNone;
    case wire::v1::POOLING_CLS:
      return batching::Pooling::kCls;
    case wire::v1::POOLING_MEAN:
      return batching::Pooling::kMean;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "pooling: unknown value ", pooling, "; use POOLING_NONE, POOLING_CLS or POOLING_MEAN"));
  }
}

absl::StatusOr<Aggregation> MapAggregation(int aggregation) {
  switch (aggregation) {
    case wire::v1::AGGREGATION_NONE:
      return Aggregation::kNone;
    case wire::v1::AGGREGATION_SIMPLE:
      return Aggregation::kSimple;
    case wire::v1::AGGREGATION_FIRST:
      return Aggregation::kFirst;
    case wire::v1::AGGREGATION_AVERAGE:
      return Aggregation::kAverage;
    case wire::v1::AGGREGATION_MAX:
      return Aggregation::kMax;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("aggregation: unknown value ", aggregation,
                       "; use AGGREGATION_NONE, AGGREGATION_SIMPLE, AGGREGATION_FIRST, "
                       "AGGREGATION_AVERAGE or AGGREGATION_MAX"));
  }
}

// The inputs and truncation every model request has.
absl::StatusOr<ModelRequest> MapTexts(const google::protobuf::RepeatedPtrField<std::string>& inputs,
                                      int truncation, const RequestLimits& limits) {
  if (absl::Status s = CheckInputCount(inputs.size(), limits); !s.ok()) return s;
  absl::StatusOr<InputTruncation> mapped = MapTruncation(truncation);
  if (!mapped.ok()) return mapped.status();
  ModelRequest out;
  out.texts = CopyTexts(inputs);
  out.truncation = *mapped;
  return out;
}

}  // namespace

absl::StatusOr<InputTruncation> MapTruncation(int truncation) {
  switch (truncation) {
    case wire::v1::TRUNCATION_NONE:
      return InputTruncation::kNone;
    case wire::v1::TRUNCATION_RIGHT:
      return InputTruncation::kRight;
    case wire::v1::TRUNCATION_LEFT:
      return InputTruncation::kLeft;
    case wire::v1::TRUNCATION_WINDOW:
      return InputTruncation::kWindow;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "truncation: unknown value ", truncation,
          "; use TRUNCATION_NONE, TRUNCATION_RIGHT, TRUNCATION_LEFT or TRUNCATION_WINDOW"));
  }
}

absl::StatusOr<ModelRequest> MapEmbedRequest(const wire::v1::EmbedRequest& request,
                                             const RequestLimits& limits) {
  if (absl::Status s = CheckInputCount(request.inputs_size(), limits); !s.ok()) return s;
  absl::StatusOr<InputTruncation> truncation = MapTruncation(request.truncation());
  if (!truncation.ok()) return truncation.status();
  absl::StatusOr<batching::Pooling> pooling = MapPooling(request.pooling());
  if (!pooling.ok()) return pooling.status();
  ModelRequest out;
  out.texts = CopyTexts(request.inputs());
  out.truncation = *truncation;
  out.request.kind = batching::Request::Kind::kEmbed;
  out.request.pooling = *pooling;
  out.request.normalize = request.normalize();
  return out;
}

absl::StatusOr<ModelRequest> MapPredictMaskRequest(const wire::v1::PredictMaskRequest& request,
                                                   const RequestLimits& limits) {
  if (absl::Status s = CheckInputCount(request.inputs_size(), limits); !s.ok()) return s;
  absl::StatusOr<InputTruncation> truncation = MapTruncation(request.truncation());
  if (!truncation.ok()) return truncation.status();
  absl::StatusOr<int32_t> top_k = ResolveTopK(request.top_k(), limits);
  if (!top_k.ok()) return top_k.status();
  ModelRequest out;
  out.texts = CopyTexts(request.inputs());
  out.truncation = *truncation;
  out.omit_sequence = request.omit_sequence();
  out.request.kind = batching::Request::Kind::kPredictMask;
  out.request.top_k = *top_k;
  return out;
}

absl::StatusOr<ModelRequest> MapClassifyRequest(const wire::v1::ClassifyRequest& request,
                                                const RequestLimits& limits) {
  absl::StatusOr<ModelRequest> out = MapTexts(request.inputs(), request.truncation(), limits);
  if (!out.ok()) return out.status();
  out->request.kind = batching::Request::Kind::kClassify;
  // More than the head has means every label, as in Hugging Face's pipeline.
  out->task.top_k = static_cast<int32_t>(std::min<uint32_t>(request.top_k(), 1u << 30));
  return out;
}

absl::StatusOr<ModelRequest> MapExtractEntitiesRequest(
    const wire::v1::ExtractEntitiesRequest& request, const RequestLimits& limits) {
  absl::StatusOr<ModelRequest> out = MapTexts(request.inputs(), request.truncation(), limits);
  if (!out.ok()) return out.status();
  absl::StatusOr<Aggregation> aggregation = MapAggregation(request.aggregation());
  if (!aggregation.ok()) return aggregation.status();
  const float threshold = request.threshold();
  if (!(threshold >= 0.0f && threshold <= 1.0f)) {  // NaN fails both
    return absl::InvalidArgumentError(
        absl::StrCat("threshold: ", threshold, " is not a score in [0, 1]"));
  }
  out->request.kind = batching::Request::Kind::kExtractEntities;
  out->task.aggregation = *aggregation;
  out->task.threshold = threshold;
  return out;
}

}  // namespace securebert::service
