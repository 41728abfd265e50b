#include "service/request_mapping.h"

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

}  // namespace

absl::StatusOr<tokenizer::Truncation> MapTruncation(int truncation) {
  switch (truncation) {
    case wire::v1::TRUNCATION_NONE:
      return tokenizer::Truncation::kNone;
    case wire::v1::TRUNCATION_RIGHT:
      return tokenizer::Truncation::kRight;
    case wire::v1::TRUNCATION_LEFT:
      return tokenizer::Truncation::kLeft;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("truncation: unknown value ", truncation,
                       "; use TRUNCATION_NONE, TRUNCATION_RIGHT or TRUNCATION_LEFT"));
  }
}

absl::StatusOr<ModelRequest> MapEmbedRequest(const wire::v1::EmbedRequest& request,
                                             const RequestLimits& limits) {
  if (absl::Status s = CheckInputCount(request.inputs_size(), limits); !s.ok()) return s;
  absl::StatusOr<tokenizer::Truncation> truncation = MapTruncation(request.truncation());
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
  absl::StatusOr<tokenizer::Truncation> truncation = MapTruncation(request.truncation());
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

}  // namespace securebert::service
